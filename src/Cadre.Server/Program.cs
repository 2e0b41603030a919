using Cadre.Server;
using Cadre.Server.Health;
using Cadre.Server.Hosting;

// The container's health probe asks a running server and exits; it starts no host of its own.
if (args is [HealthProbe.Command, .. var probeArguments])
{
    return await HealthProbe.RunAsync(probeArguments);
}

return await StartupFailures.ReportAsync(async () =>
{
    // Content root is the build output, so appsettings.json is found wherever the server is started
    // from; relative paths in settings (the data directory) still resolve against the working directory.
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    builder.AddCadreServer();

    var app = builder.Build();
    app.UseCadreHttp();
    app.MapCadreApi();
    await app.RunAsync();
});

/// <summary>The entry point, visible to <c>WebApplicationFactory</c> in the tests.</summary>
public partial class Program;
