using Cadre.Server;
using Cadre.Server.Hosting;

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
