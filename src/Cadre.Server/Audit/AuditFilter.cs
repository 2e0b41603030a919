using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Audit;
using Cadre.Auth;
using Cadre.Server.Auth;
using Cadre.Users;
using Cadre.Workspaces;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Cadre.Server.Audit;

/// <summary>
/// What a handler tells the audit log that the request alone does not show: the resource it reached
/// (a webhook's run), which also marks the request as one that changed something whatever its status.
/// </summary>
internal sealed class RequestAudit
{
    public string? ResourceId { get; private set; }

    public bool Changed { get; private set; }

    public void Resource(string id)
    {
        ResourceId = id;
        Changed = true;
    }
}

/// <summary>
/// Writes the audit entry of every audited endpoint (<see cref="AuditActions"/>): after the handler
/// has answered and before the answer is sent, so an acknowledged change has its entry. Successful
/// answers (below 400) are recorded; of the failures, refused sign-ins and a known caller's 403
/// (<c>access.denied</c>). A failure to write the entry fails the request (the change stays: see
/// docs/audit.md). Applied to every endpoint of the API through its route group; outermost, so it
/// sees the access filters' refusals too.
/// </summary>
internal sealed class AuditFilter(int bodyParameter) : IEndpointFilter
{
    /// <summary>Route values never recorded: the workspace has a field of its own, a token is a credential.</summary>
    private static readonly HashSet<string> UnrecordedRouteValues = new(StringComparer.OrdinalIgnoreCase) { "workspace", "token" };

    /// <summary>Query parameters never recorded: the signature of a signed URL, and paging.</summary>
    private static readonly HashSet<string> UnrecordedQuery = new(StringComparer.OrdinalIgnoreCase) { "sig", "cursor", "limit" };

    private static readonly ConcurrentDictionary<(Type Type, string Name), PropertyInfo?> Properties = new();

    /// <summary>Made once per endpoint: finds the handler's body parameter, whose top-level fields a change records.</summary>
    public static EndpointFilterDelegate Create(EndpointFilterFactoryContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        var filter = new AuditFilter(Array.FindIndex(context.MethodInfo.GetParameters(), IsBody));
        return invocation => filter.InvokeAsync(invocation, next);
    }

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (AuditActions.For(http.GetEndpoint()) is not { } action)
        {
            return await next(context);
        }

        var result = await next(context);
        var status = StatusOf(result, http);
        var notes = http.RequestServices.GetRequiredService<RequestAudit>();
        var caller = http.User.GetCaller();
        var (name, resourceType) = (action.Name, action.ResourceType);
        var details = new JsonObject();
        var value = ValueOf(result);
        var actor = caller is null ? AuditActor.Anonymous : AuditActor.For(caller);
        if (value is SignedInResponse signedIn)
        {
            actor = new AuditActor(CallerKind.User, signedIn.User.Id, null, "password");
            value = signedIn.User;
        }

        if (status >= 400 && !notes.Changed)
        {
            if (action.Name == "auth.signed_in")
            {
                (name, resourceType) = (AuditActions.SignInFailed, null);
                // The address tried, and only an address: people type their password into the email field, and the log must not keep it.
                if (context.Arguments.ElementAtOrDefault(bodyParameter) is LoginRequest { Email: { } email } && System.Net.Mail.MailAddress.TryCreate(email, out _))
                {
                    details["email"] = email;
                }
            }
            else if (status == StatusCodes.Status403Forbidden && caller is not null)
            {
                details["action"] = action.Name;
                (name, resourceType) = (AuditActions.AccessDenied, null);
            }
            else
            {
                return result;
            }
        }

        var workspaceId = await WorkspaceOfAsync(http, caller, status, value);
        var (resourceId, resourceName) = ResourceOf(http, caller, notes, value, resourceType, status);
        AddRouteAndQuery(http, details, resourceId, resourceName);
        if (status < 400 && http.Request.Method is "PATCH" or "PUT" && FieldsOf(context, http) is { Count: > 0 } fields)
        {
            details["fields"] = fields;
        }

        var record = new AuditRecord(
            workspaceId,
            actor,
            name,
            resourceType,
            resourceType is null ? null : resourceId,
            resourceType is null ? null : resourceName,
            http.Request.Method,
            PathOf(http),
            status,
            http.Connection.RemoteIpAddress?.ToString(),
            http.Request.Headers.UserAgent.ToString() is { Length: > 0 } agent ? agent : null,
            Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier,
            details);
        await http.RequestServices.GetRequiredService<AuditLog>().WriteAsync(record, http.RequestAborted);
        return result;
    }

    /// <summary>The workspace the access filter resolved, the one a failed access named, or the one a response belongs to (a created workspace, a workspace-limited key).</summary>
    private static async Task<string?> WorkspaceOfAsync(HttpContext http, Caller? caller, int status, object? value)
    {
        if (http.RequestServices.GetRequiredService<WorkspaceAccess>().IsGranted(out var granted))
        {
            return granted.Id;
        }

        if (status == StatusCodes.Status403Forbidden && caller is not null && http.GetRouteValue("workspace") is string name)
        {
            return (await http.RequestServices.GetRequiredService<WorkspaceService>().FindAsync(name, http.RequestAborted))?.Id;
        }

        if (value is null)
        {
            return null;
        }

        // (A created workspace is found from its ID by the log itself: the resource is a workspace.)
        return StringOf(value, "WorkspaceId");
    }

    /// <summary>
    /// The resource: what the handler noted, else the response's ID (<c>id</c>, <c>&lt;type&gt;Id</c> or a
    /// file's <c>storageId</c>) and <c>name</c>, else the path's last value (an ID or a name: most deletes
    /// answer no body), else for an action about a person, the person acting (sign-out, a password change).
    /// </summary>
    private static (string? Id, string? Name) ResourceOf(HttpContext http, Caller? caller, RequestAudit notes, object? value, string? resourceType, int status)
    {
        if (resourceType is null)
        {
            return (null, null);
        }

        if (notes.ResourceId is { } noted)
        {
            return (noted, null);
        }

        if (value is not null && status < 400
            && (StringOf(value, "Id") ?? StringOf(value, Pascal(resourceType) + "Id") ?? StringOf(value, "StorageId")) is { } id)
        {
            return (id, StringOf(value, "Name"));
        }

        var last = http.GetRouteData().Values.LastOrDefault(pair => !UnrecordedRouteValues.Contains(pair.Key) && pair.Value is string);
        if (last.Value is string routed)
        {
            return (routed, null);
        }

        return (resourceType == "user" && caller is { IsUser: true } ? caller.ActorId : null, null);
    }

    private static void AddRouteAndQuery(HttpContext http, JsonObject details, string? resourceId, string? resourceName)
    {
        var route = new JsonObject();
        foreach (var (key, value) in http.GetRouteData().Values)
        {
            if (!UnrecordedRouteValues.Contains(key) && value is string text && text != resourceId && text != resourceName)
            {
                route[key] = text;
            }
        }

        if (route.Count > 0)
        {
            details["route"] = route;
        }

        // Public endpoints (webhooks, signed URLs) take whatever query a sender adds, which may hold its secrets.
        if (http.GetEndpoint()?.Metadata.GetMetadata<AccessMetadata>()?.Level == AccessLevel.Public)
        {
            return;
        }

        var query = new JsonObject();
        foreach (var (key, values) in http.Request.Query)
        {
            if (!UnrecordedQuery.Contains(key))
            {
                var text = values.ToString();
                query[key] = text.Length > 200 ? text[..200] : text;
            }
        }

        if (query.Count > 0)
        {
            details["query"] = query;
        }
    }

    /// <summary>The top-level fields a change named (never their values): a merge patch's members, or a request record's non-null properties.</summary>
    private JsonArray? FieldsOf(EndpointFilterInvocationContext context, HttpContext http)
    {
        if (context.Arguments.ElementAtOrDefault(bodyParameter) is not { } body)
        {
            return null;
        }

        var json = body as JsonObject
            ?? JsonSerializer.SerializeToNode(body, body.GetType(), http.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions) as JsonObject;
        var keepNulls = body is JsonObject;
        return json is null ? null : [.. json.Where(pair => keepNulls || pair.Value is not null).Select(pair => (JsonNode?)pair.Key)];
    }

    /// <summary>The request path, a token in it replaced (the webhook intake's path is its credential).</summary>
    private static string PathOf(HttpContext http)
    {
        var path = (http.Request.PathBase + http.Request.Path).ToString();
        return http.GetRouteValue("token") is string { Length: > 0 } token ? path.Replace(token, "{token}", StringComparison.Ordinal) : path;
    }

    private static int StatusOf(object? result, HttpContext http) =>
        Unwrap(result) switch
        {
            IStatusCodeHttpResult { StatusCode: { } code } => code,
            ProblemDetails { Status: { } code } => code,
            IResult => http.Response.StatusCode,
            _ => StatusCodes.Status200OK,
        };

    private static object? ValueOf(object? result) =>
        Unwrap(result) switch
        {
            IValueHttpResult value => value.Value,
            IResult => null,
            var plain => plain,
        };

    private static object? Unwrap(object? result)
    {
        while (result is INestedHttpResult nested)
        {
            result = nested.Result;
        }

        return result;
    }

    /// <summary>A public string property of a response (its ID, name, workspace), read through a cached lookup.</summary>
    private static string? StringOf(object value, string name) =>
        Properties.GetOrAdd((value.GetType(), name), static key =>
            key.Type.GetProperty(key.Name, BindingFlags.Public | BindingFlags.Instance) is { PropertyType: var t } property && t == typeof(string) ? property : null)
            ?.GetValue(value) as string;

    /// <summary><c>webhook_subscription</c> → <c>WebhookSubscription</c>.</summary>
    private static string Pascal(string snake) =>
        string.Concat(snake.Split('_').Select(word => word.Length == 0 ? word : char.ToUpperInvariant(word[0]) + word[1..]));

    /// <summary>Which handler parameter is the JSON body: marked so, free JSON, or one of Cadre's request records.</summary>
    private static bool IsBody(ParameterInfo parameter) =>
        parameter.GetCustomAttribute<FromBodyAttribute>() is not null
        || typeof(JsonNode).IsAssignableFrom(parameter.ParameterType)
        || (parameter.ParameterType.Name.EndsWith("Request", StringComparison.Ordinal)
            && parameter.ParameterType.Namespace?.StartsWith("Cadre", StringComparison.Ordinal) == true
            && parameter.GetCustomAttribute<AsParametersAttribute>() is null);
}

internal static class AuditFilterExtensions
{
    /// <summary>Audits every endpoint mapped on the returned group (<see cref="AuditFilter"/>).</summary>
    public static RouteGroupBuilder WithAuditLog(this RouteGroupBuilder group)
    {
        ArgumentNullException.ThrowIfNull(group);
        return group.AddEndpointFilterFactory(AuditFilter.Create);
    }
}
