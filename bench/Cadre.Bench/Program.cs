using Cadre.Bench;

// Usage: dotnet run -c Release --project bench/Cadre.Bench -- <path to Cadre.Server.dll> [personas] [requests per scenario] [concurrency]
// CADRE_BENCH_DATABASE, when set, is passed to the server as CADRE_DATABASE (a PostgreSQL connection string); SQLite otherwise.
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: Cadre.Bench <Cadre.Server.dll> [personas=10000] [requests=2000] [concurrency=8]");
    return 2;
}

var settings = new BenchSettings(
    ServerDll: args[0],
    Personas: args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10_000,
    Requests: args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 2_000,
    Concurrency: args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 8,
    Database: Environment.GetEnvironmentVariable("CADRE_BENCH_DATABASE"));

await using var server = await BenchServer.StartAsync(settings);
await PersonaBench.RunAsync(server, settings, Console.Out);
return 0;
