using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Cadre.Cli.Api;

/// <summary>
/// The API answered with a problem (RFC 9457). Its message is the problem rendered for a person: the
/// title, the status, the detail and each invalid field on its own line, never a JSON blob.
/// </summary>
internal sealed class CadreApiException(HttpStatusCode status, JsonObject? problem, string message)
    : CliException(message, ExitCodeFor(status))
{
    public HttpStatusCode Status { get; } = status;

    /// <summary>The problem document as the server sent it, or null when the body was not one.</summary>
    public JsonObject? Problem { get; } = problem;

    public static CadreApiException From(HttpStatusCode status, string? reasonPhrase, string body)
    {
        JsonObject? problem = null;
        try
        {
            problem = JsonNode.Parse(body) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            // Not JSON (a proxy's HTML page, say): the status and the start of the body are all there is.
        }

        return new CadreApiException(status, problem, Render((int)status, reasonPhrase, problem, body));
    }

    public static int ExitCodeFor(HttpStatusCode status) => (int)status switch
    {
        401 or 403 => ExitCodes.NotAllowed,
        404 or 410 => ExitCodes.NotFound,
        409 or 412 => ExitCodes.Conflict,
        >= 500 => ExitCodes.Unavailable,
        _ => ExitCodes.Failed,
    };

    private static string Render(int status, string? reasonPhrase, JsonObject? problem, string body)
    {
        var text = new StringBuilder();
        var title = problem?["title"]?.GetValue<string>() ?? reasonPhrase ?? "The request failed";
        text.Append(title).Append(" (HTTP ").Append(status).Append(')');
        if (problem?["detail"]?.GetValue<string>() is { Length: > 0 } detail && detail != title)
        {
            text.Append(": ").Append(detail);
        }
        else if (problem is null && body.Length > 0)
        {
            text.Append(": ").Append(body.Length > 300 ? body[..300] + "…" : body);
        }

        if (problem?["errors"] is JsonObject errors)
        {
            foreach (var (field, messages) in errors)
            {
                var list = messages is JsonArray array ? array.Select(m => m?.ToString() ?? "") : [messages?.ToString() ?? ""];
                foreach (var message in list)
                {
                    text.Append('\n').Append("  ").Append(field).Append(": ").Append(message);
                }
            }
        }

        return text.ToString();
    }
}
