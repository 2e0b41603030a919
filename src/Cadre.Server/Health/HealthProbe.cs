using System.Collections;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Cadre.Server.Health;

/// <summary>
/// <c>dotnet Cadre.Server.dll healthcheck [url]</c>: asks a running server's <c>/healthz</c> and exits 0
/// when it answers 200, 1 otherwise, without starting a host. It is the container's HEALTHCHECK: the
/// runtime image has no curl or wget. Without a URL it asks the local port the server itself would
/// listen on (<c>ASPNETCORE_URLS</c>, <c>ASPNETCORE_HTTP_PORTS</c>, or Cadre's default).
/// </summary>
internal static partial class HealthProbe
{
    public const string Command = "healthcheck";

    // Docker's own HEALTHCHECK timeout should be longer, so a hung server is reported by this answer.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(IReadOnlyList<string> arguments, IDictionary? environment = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var target = arguments.Count switch
        {
            0 => DefaultTarget(environment ?? Environment.GetEnvironmentVariables()),
            1 => Target(arguments[0]),
            _ => null,
        };
        if (target is null)
        {
            await Console.Error.WriteLineAsync($"usage: Cadre.Server {Command} [http://host:port[/path]] (default: this machine's Cadre port, path /healthz)");
            return 2;
        }

        using var client = new HttpClient { Timeout = Timeout };
        try
        {
            using var response = await client.GetAsync(target, HttpCompletionOption.ResponseHeadersRead);
            if (response.IsSuccessStatusCode)
            {
                await Console.Out.WriteLineAsync($"healthy: {target} answered {(int)response.StatusCode}");
                return 0;
            }

            await Console.Error.WriteLineAsync($"unhealthy: {target} answered {(int)response.StatusCode}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"unhealthy: {target}: {ex.Message}");
        }

        return 1;
    }

    /// <summary>A URL as given; one without a path asks its <c>/healthz</c>.</summary>
    internal static Uri? Target(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri.AbsolutePath == "/" && uri.Query.Length == 0 ? new Uri(uri, "/healthz") : uri
            : null;

    /// <summary>Where the server listens when started with the same environment, as Kestrel reads it: URLs win over ports.</summary>
    internal static Uri? DefaultTarget(IDictionary environment)
    {
        if (environment["ASPNETCORE_URLS"] is string { Length: > 0 } urls)
        {
            var all = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var url = all.FirstOrDefault(u => u.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? all.FirstOrDefault();
            // A wildcard host is where the server listens, not an address to call: ask over loopback.
            return url is null ? null : Target(WildcardHost().Replace(url, "${scheme}127.0.0.1"));
        }

        if (environment["ASPNETCORE_HTTP_PORTS"] is string { Length: > 0 } ports &&
            int.TryParse(ports.Split(';', StringSplitOptions.TrimEntries)[0], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            return Target($"http://127.0.0.1:{port}");
        }

        return Target(CadreServer.DefaultUrl);
    }

    [GeneratedRegex(@"^(?<scheme>https?://)(\*|\+|0\.0\.0\.0|\[::\])(?=[:/]|$)", RegexOptions.IgnoreCase)]
    private static partial Regex WildcardHost();
}
