using Cadre.Bench;

// Usage: dotnet run -c Release --project bench/Cadre.Bench -- <path to Cadre.Server.dll> [personas] [requests per scenario] [concurrency]
//        dotnet run -c Release --project bench/Cadre.Bench -- <path to Cadre.Server.dll> workflows [runs for latency] [concurrency] [seconds of load]
//        dotnet run -c Release --project bench/Cadre.Bench -- <path to Cadre.Server.dll> agents [runs for latency] [streaming runs] [subscribers]
//        dotnet run -c Release --project bench/Cadre.Bench -- <path to Cadre.Server.dll> webhooks [requests for latency] [seconds of load]
//        dotnet run -c Release --project bench/Cadre.Bench -- <path to Cadre.Server.dll> analytics [runs] [requests per pass]
//        dotnet run -c Release --project bench/Cadre.Bench -- <path to Cadre.Server.dll> scaleout [most nodes] [runs to drain] [seconds of load]  (PostgreSQL only)
//        dotnet run -c Release --project bench/Cadre.Bench -- render <figures.jsonl> <commit> <sizes>   (the report's Markdown, from the figures of the runs above)
// CADRE_BENCH_DATABASE, when set, is passed to the server as CADRE_DATABASE (a PostgreSQL connection string); SQLite otherwise.
// CADRE_BENCH_FIGURES, when set, names a file each run appends its figures to (JSON lines), for bench/report.sh.
if (args.Length == 2 && args[0] == "bare-http")
{
    await BareHttpServer.ServeAsync(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
    return 0;
}

if (args.Length == 4 && args[0] == "render")
{
    Console.Write(ReportWriter.Render(await Figures.LoadAsync(args[1]), args[2], args[3], DateTime.UtcNow));
    return 0;
}

if (args.Length < 1)
{
    Console.Error.WriteLine("usage: Cadre.Bench <Cadre.Server.dll> [personas=10000] [requests=2000] [concurrency=8]");
    Console.Error.WriteLine("       Cadre.Bench <Cadre.Server.dll> workflows [runs=100] [concurrency=8] [seconds=15]");
    Console.Error.WriteLine("       Cadre.Bench <Cadre.Server.dll> agents [runs=50] [streaming=100] [subscribers=1000]");
    Console.Error.WriteLine("       Cadre.Bench <Cadre.Server.dll> webhooks [requests=2000] [seconds=15]");
    Console.Error.WriteLine("       Cadre.Bench <Cadre.Server.dll> analytics [runs=1000000] [requests=200]");
    Console.Error.WriteLine("       CADRE_BENCH_DATABASE=<PostgreSQL server> Cadre.Bench <Cadre.Server.dll> scaleout [nodes=3] [drain=100000] [seconds=15]");
    Console.Error.WriteLine("       Cadre.Bench render <figures.jsonl> <commit> <sizes>");
    return 2;
}

int Arg(int index, int fallback) => args.Length > index ? int.Parse(args[index], System.Globalization.CultureInfo.InvariantCulture) : fallback;
var database = Environment.GetEnvironmentVariable("CADRE_BENCH_DATABASE") is { Length: > 0 } given ? given : null;
Figures figures;
if (args.Length > 1 && args[1] == "workflows")
{
    var settings = new BenchSettings(args[0], Personas: 0, Requests: Arg(2, 100), Concurrency: Arg(3, 8), database);
    using var noop = new NoopServer();
    await using var bare = await BareHttpServer.StartAsync();
    // The http steps call the local no-op server, which the outbound guard refuses unless private networks are allowed.
    await using var engineServer = await BenchServer.StartAsync(settings, new Dictionary<string, string> { ["CADRE_OUTBOUND_ALLOW_PRIVATE_NETWORKS"] = "true" });
    figures = await WorkflowBench.RunAsync(engineServer, noop, bare, settings, TimeSpan.FromSeconds(Arg(4, 15)), Console.Out);
}
else if (args.Length > 1 && args[1] == "webhooks")
{
    var settings = new BenchSettings(args[0], Personas: 0, Requests: Arg(2, 2000), Concurrency: 16, database);
    await using var bare = await BareHttpServer.StartAsync();
    await using var hookServer = await BenchServer.StartAsync(settings);
    figures = await WebhookBench.RunAsync(hookServer, bare, settings, TimeSpan.FromSeconds(Arg(3, 15)), Console.Out);
}
else if (args.Length > 1 && args[1] == "analytics")
{
    var settings = new BenchSettings(args[0], Personas: 0, Requests: Arg(3, 200), Concurrency: 4, database);
    await using var bare = await BareHttpServer.StartAsync();
    figures = await AnalyticsBench.RunAsync(settings, bare, Arg(2, 1_000_000), Console.Out);
}
else if (args.Length > 1 && args[1] == "scaleout")
{
    // Each configuration gets a database of its own on this server.
    figures = await ScaleOutBench.RunAsync(args[0], database ?? throw new InvalidOperationException("scaleout needs CADRE_BENCH_DATABASE (a PostgreSQL connection string)."),
        Arg(2, 3), Arg(3, 100_000), TimeSpan.FromSeconds(Arg(4, 15)), Console.Out);
}
else if (args.Length > 1 && args[1] == "agents")
{
    var settings = new BenchSettings(args[0], Personas: 0, Requests: Arg(2, 50), Concurrency: 1, database);
    // The fake model server is local, which the outbound guard refuses unless private networks are allowed.
    // A streaming model call holds a worker slot while it waits on the network: as many slots as streaming runs.
    await using var agentServer = await BenchServer.StartAsync(settings, new Dictionary<string, string>
    {
        ["CADRE_OUTBOUND_ALLOW_PRIVATE_NETWORKS"] = "true",
        ["CADRE_ENGINE_WORKERS"] = Arg(3, 100).ToString(System.Globalization.CultureInfo.InvariantCulture),
    });
    figures = await AgentBench.RunAsync(agentServer, settings, Arg(3, 100), Arg(4, 1000), Console.Out);
}
else
{
    var personaSettings = new BenchSettings(args[0], Personas: Arg(1, 10_000), Requests: Arg(2, 2_000), Concurrency: Arg(3, 8), database);
    await using var bare = await BareHttpServer.StartAsync();
    await using var server = await BenchServer.StartAsync(personaSettings);
    figures = await PersonaBench.RunAsync(server, bare, personaSettings, Console.Out);
}

await figures.SaveAsync();
return 0;
