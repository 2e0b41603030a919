using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.Http;

/// <summary>Every HTTP endpoint the server maps, read from its routing, so whole-API tests cover endpoints added later too.</summary>
internal static class EndpointCatalog
{
    public sealed record Route(string Method, string Pattern, RouteEndpoint Endpoint)
    {
        public bool HasBody => Method is "POST" or "PUT" or "PATCH";

        public override string ToString() => $"{Method} {Pattern}";
    }

    public static IReadOnlyList<Route> All(CadreApp app) =>
        app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .SelectMany(endpoint => (endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(method => new Route(method, "/" + endpoint.RoutePattern.RawText!.Trim('/'), endpoint)))
            .ToList();

    /// <summary>The pattern with its route values filled in: <c>{workspace}</c>, and every <c>{…Id}</c> from <paramref name="ids"/> or a made-up ID.</summary>
    public static string Fill(string pattern, string workspace, IReadOnlyDictionary<string, string>? ids = null) =>
        System.Text.RegularExpressions.Regex.Replace(pattern, @"\{(\w+)(:\w+)?\}", match => match.Groups[1].Value switch
        {
            _ when match.Groups[2].Value == ":int" => ids?.GetValueOrDefault(match.Groups[1].Value) ?? "1",
            "workspace" => workspace,
            "documentName" => "v1",
            var name => ids?.GetValueOrDefault(name) ?? $"{name}_unknown",
        });
}
