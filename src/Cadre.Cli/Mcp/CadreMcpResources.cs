using System.Net;
using System.Text.Json.Nodes;
using Cadre.Cli.Api;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Cadre.Cli.Mcp;

/// <summary>
/// The resources of <c>cadre mcp</c>: each persona's card (<c>cadre://personas/{name}/card</c>, Markdown) and each
/// workflow's definition (<c>cadre://workflows/{name}</c>, JSON), listed by paging through the API and read from it.
/// </summary>
internal sealed class CadreMcpResources(CliSession session)
{
    public const string PersonaPrefix = "cadre://personas/";
    public const string CardSuffix = "/card";
    public const string WorkflowPrefix = "cadre://workflows/";

    private const int PageSize = 100;

    public static IList<ResourceTemplate> Templates { get; } =
    [
        new()
        {
            UriTemplate = PersonaPrefix + "{name}" + CardSuffix,
            Name = "persona-card",
            Title = "Persona card",
            Description = "A persona described on one Markdown page: who it is, its model, instructions, parameters and skills.",
            MimeType = "text/markdown",
        },
        new()
        {
            UriTemplate = WorkflowPrefix + "{name}",
            Name = "workflow-definition",
            Title = "Workflow definition",
            Description = "A workflow's definition as the API has it: trigger, steps and their inputs, version.",
            MimeType = "application/json",
        },
    ];

    public static ValueTask<ListResourceTemplatesResult> ListTemplatesAsync(RequestContext<ListResourceTemplatesRequestParams> request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new ListResourceTemplatesResult { ResourceTemplates = Templates });

    /// <summary>
    /// One page of the API's personas, then of its workflows. The MCP cursor names the collection and the API's
    /// own cursor, never a URL: a client cannot point the key at another host through it.
    /// </summary>
    public async ValueTask<ListResourcesResult> ListAsync(RequestContext<ListResourcesRequestParams> request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (collection, cursor) = ParseCursor(request.Params?.Cursor);
        var resources = new List<Resource>();
        string? next;
        try
        {
            (var page, next) = await PageAsync(collection, cursor, cancellationToken);
            resources.AddRange(page);
            if (collection == "personas" && next is null)
            {
                // The last page of personas: the workflows' first page comes with it.
                (page, next) = await PageAsync("workflows", null, cancellationToken);
                resources.AddRange(page);
            }
        }
        catch (CliException ex)
        {
            throw new McpException(ex.Message, ex);
        }

        return new ListResourcesResult { Resources = resources, NextCursor = next };
    }

    public async ValueTask<ReadResourceResult> ReadAsync(RequestContext<ReadResourceRequestParams> request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var uri = request.Params?.Uri ?? throw new McpProtocolException("Which resource? uri is required.", McpErrorCode.InvalidParams);
        try
        {
            if (Name(uri, PersonaPrefix, CardSuffix) is { } persona)
            {
                using var get = new HttpRequestMessage(HttpMethod.Get, $"{session.WorkspacePath}/personas/{CadreApiClient.Segment(persona)}/card");
                var card = await session.Api.SendForTextAsync(get, null, null, cancellationToken);
                return new ReadResourceResult { Contents = [new TextResourceContents { Uri = uri, MimeType = "text/markdown", Text = card }] };
            }

            if (Name(uri, WorkflowPrefix, "") is { } workflow)
            {
                var definition = await session.Api.GetAsync($"{session.WorkspacePath}/workflows/{CadreApiClient.Segment(workflow)}", cancellationToken);
                return new ReadResourceResult
                {
                    Contents = [new TextResourceContents { Uri = uri, MimeType = "application/json", Text = definition?.ToJsonString(CadreApiClient.Json) ?? "null" }],
                };
            }
        }
        catch (CadreApiException ex) when (ex.Status is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            throw new McpProtocolException(ex.Message, ex, McpErrorCode.ResourceNotFound);
        }
        catch (CliException ex)
        {
            throw new McpException(ex.Message, ex);
        }

        throw new McpProtocolException(
            $"No resource {uri}: cadre mcp serves {PersonaPrefix}{{name}}{CardSuffix} and {WorkflowPrefix}{{name}}.", McpErrorCode.ResourceNotFound);
    }

    private async Task<(List<Resource> Resources, string? Next)> PageAsync(string collection, string? cursor, CancellationToken cancellationToken)
    {
        var path = CadreApiClient.WithQuery(
            CadreApiClient.WithQuery($"{session.WorkspacePath}/{collection}", "limit", PageSize.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            "cursor", cursor);
        var page = await session.Api.GetAsync(path, cancellationToken) as JsonObject
            ?? throw new CliException($"{path} did not answer a list.");
        var items = (page["results"] as JsonArray ?? []).OfType<JsonObject>();
        var resources = collection == "personas" ? items.Select(PersonaCard).ToList() : items.Select(WorkflowDefinition).ToList();
        var apiCursor = page["next"]?.GetValue<string>() is { } nextUrl && Uri.TryCreate(nextUrl, UriKind.Absolute, out var nextUri)
            ? System.Web.HttpUtility.ParseQueryString(nextUri.Query)["cursor"]
            : null;
        return (resources, apiCursor is null ? null : $"{collection}:{apiCursor}");
    }

    private static Resource PersonaCard(JsonObject persona)
    {
        var name = persona["name"]!.GetValue<string>();
        var displayName = persona["displayName"]?.GetValue<string>() ?? name;
        return new Resource
        {
            Uri = PersonaPrefix + Uri.EscapeDataString(name) + CardSuffix,
            Name = name,
            Title = $"Persona: {displayName}",
            Description = persona["description"]?.GetValue<string>() ?? $"The card of the persona {displayName}.",
            MimeType = "text/markdown",
        };
    }

    private static Resource WorkflowDefinition(JsonObject workflow)
    {
        var name = workflow["name"]!.GetValue<string>();
        var title = workflow["title"]?.GetValue<string>() is { Length: > 0 } given ? given : name;
        return new Resource
        {
            Uri = WorkflowPrefix + Uri.EscapeDataString(name),
            Name = name,
            Title = $"Workflow: {title}",
            Description = workflow["description"]?.GetValue<string>() ?? $"The definition of the workflow {title}.",
            MimeType = "application/json",
        };
    }

    private static (string Collection, string? Cursor) ParseCursor(string? cursor)
    {
        if (cursor is null)
        {
            return ("personas", null);
        }

        var colon = cursor.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && cursor[..colon] is "personas" or "workflows" && colon + 1 < cursor.Length
            ? (cursor[..colon], cursor[(colon + 1)..])
            : throw new McpProtocolException("The cursor is not one this server gave.", McpErrorCode.InvalidParams);
    }

    /// <summary>The one name between <paramref name="prefix"/> and <paramref name="suffix"/>, unescaped, or null.</summary>
    private static string? Name(string uri, string prefix, string suffix)
    {
        if (!uri.StartsWith(prefix, StringComparison.Ordinal) || !uri.EndsWith(suffix, StringComparison.Ordinal) || uri.Length <= prefix.Length + suffix.Length)
        {
            return null;
        }

        var segment = uri[prefix.Length..^suffix.Length];
        return segment.Contains('/', StringComparison.Ordinal) ? null : Uri.UnescapeDataString(segment);
    }
}
