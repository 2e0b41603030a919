using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Cadre.E2E.Infrastructure;

/// <summary>Arranging through the API: one call, its answer as an object, and a failure naming the call and what the API said.</summary>
internal static class ApiCalls
{
    public static async Task<JsonObject> SendAsync(HttpClient client, HttpMethod method, string path, object? body)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
        }

        return text.Length == 0 ? [] : JsonNode.Parse(text)!.AsObject();
    }
}
