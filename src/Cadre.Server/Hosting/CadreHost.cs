namespace Cadre.Server.Hosting;

/// <summary>
/// Runs the Cadre server: what <c>Program.cs</c> does, and what <c>cadre server</c> does in the CLI,
/// so both start exactly the same host from the same settings.
/// </summary>
public static class CadreHost
{
    /// <summary>Builds, starts and runs the server until it is stopped; answers the process's exit code.</summary>
    public static Task<int> RunAsync(string[] args, CancellationToken cancellationToken = default) =>
        StartupFailures.ReportAsync(async () =>
        {
            var app = Build(args);
            app.UseCadreHttp();
            app.MapCadreApi();
            await app.RunAsync(cancellationToken);
        });

    /// <summary>
    /// The server's application, configured but not started: operator commands (<c>cadre db</c>,
    /// <c>cadre admin</c>) take its services so they read the same settings the server would.
    /// </summary>
    public static WebApplication Build(string[] args)
    {
        // Content root is the build output, so appsettings.json is found wherever the server is started
        // from; relative paths in settings (the data directory) still resolve against the working directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.AddCadreServer();
        return builder.Build();
    }
}
