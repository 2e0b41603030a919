using Cadre.Nodes;
using Cadre.Server.Http;
using Cadre.Storage;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Cadre.Server.Hosting;

/// <summary>
/// Tells the operator, once the server listens, where it is and (on the first start of an empty
/// database) the admin key. Written to standard output rather than the log, so the key never lands
/// in log files or log shippers.
/// </summary>
internal sealed class StartupBanner(
    IServer server, StartupReport report, IOptions<PublicUrlOptions> publicUrls, ThisNode node, IHostApplicationLifetime lifetime) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(Print);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Print()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var url = addresses.FirstOrDefault() ?? "(no address)";
        // Composed first and written at once, so the banner's lines never interleave with log lines;
        // it has no blank line inside, so tools reading the console know it ends at the first one.
        using var output = new StringWriter();
        output.WriteLine();
        output.WriteLine($"Cadre is listening on {string.Join(", ", addresses)}");
        output.WriteLine(report.Schema is { } schema && schema.CurrentVersion > schema.LatestVersion
            ? $"  database: {report.Database} (schema version {schema.CurrentVersion}, newer than this build's {schema.LatestVersion} and compatible with it: finish the upgrade)"
            : $"  database: {report.Database} (schema version {report.Schema?.CurrentVersion})");
        output.WriteLine($"  API: {url}/api/v1   OpenAPI: {url}/openapi/v1.json");
        if (report.EncryptionKey is { } encryption)
        {
            output.WriteLine($"  secrets encryption key: {encryption}");
        }

        output.WriteLine(node.Role switch
        {
            NodeRole.Api => $"  node: {node.Name} ({node.Id}), role api: serves the API; other nodes run the workflows",
            NodeRole.Worker => $"  node: {node.Name} ({node.Id}), role worker: runs workflows; answers only /healthz and /readyz",
            _ => $"  node: {node.Name} ({node.Id}), role all",
        });

        if (report.GeneratedAdminKey is { } key)
        {
            output.WriteLine("Instance admin key (shown this once; Cadre stores only its hash):");
            output.WriteLine($"  {key}");
            output.WriteLine(report.AdminKeyFile is { } file
                ? $"  also saved to {file} (readable by this user only)"
                : "  it could not be saved to the data directory: copy it now");
            output.WriteLine($"  try: curl -H \"Authorization: Bearer {key}\" {url}/api/v1/workspaces");
        }

        if (report.SetupCode is { } code)
        {
            // Empty is unset: compose files pass optional settings as empty variables.
            var publicUrl = string.IsNullOrWhiteSpace(publicUrls.Value.PublicUrl) ? url : publicUrls.Value.PublicUrl.TrimEnd('/');
            output.WriteLine("First user: open this link (or POST /api/v1/setup with this code) to become the instance owner:");
            output.WriteLine($"  {publicUrl}/setup?code={code}");
            output.WriteLine($"  the code works once, until {report.SetupCodeExpiresAt:u}; a new one is printed at each start until set-up is done");
        }

        output.WriteLine();
        Console.Out.Write(output.ToString());
        Console.Out.Flush();
    }
}
