using Cadre.Auth;
using Cadre.Server.Http;
using Cadre.Workspaces;

namespace Cadre.Server.Auth;

/// <summary>Who may call an endpoint. Every <c>/api/v1</c> endpoint carries exactly one; a test holds us to it.</summary>
public sealed record AccessMetadata(AccessLevel Level, WorkspaceRole? MinimumRole = null)
{
    public string Describe() => Level switch
    {
        AccessLevel.Public => "No API key needed.",
        AccessLevel.AnyKey => "Any valid API key.",
        AccessLevel.InstanceAdmin => "An instance admin key.",
        AccessLevel.WorkspaceRole => $"A key with role '{MinimumRole!.Value.ToWireName()}' or higher in the workspace (instance admin keys act as owner).",
        _ => Level.ToString(),
    };
}

public enum AccessLevel
{
    Public,
    AnyKey,
    InstanceAdmin,
    WorkspaceRole,
}

/// <summary>
/// The workspace a request addresses, resolved and access-checked by <see cref="WorkspaceAccessFilter"/>
/// before the handler runs. Handlers take it as a parameter.
/// </summary>
internal sealed class WorkspaceAccess
{
    private WorkspaceRef? _workspace;
    private ApiKeyIdentity? _caller;

    public WorkspaceRef Workspace => _workspace ?? throw NotResolved();

    public ApiKeyIdentity Caller => _caller ?? throw NotResolved();

    /// <summary>The caller's role in this workspace.</summary>
    public WorkspaceRole Role { get; private set; }

    internal void Grant(WorkspaceRef workspace, ApiKeyIdentity caller, WorkspaceRole role)
    {
        _workspace = workspace;
        _caller = caller;
        Role = role;
    }

    private static InvalidOperationException NotResolved() =>
        new("WorkspaceAccess is only available on endpoints that call RequireWorkspaceRole().");
}

/// <summary>
/// Resolves <c>{workspace}</c> and checks the caller's role in it. A workspace the key does not
/// belong to answers 404, exactly as one that does not exist, so keys cannot probe for names.
/// </summary>
internal sealed class WorkspaceAccessFilter(WorkspaceRole minimum) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var caller = http.User.GetApiKeyIdentity()
            ?? throw new InvalidOperationException("WorkspaceAccessFilter runs only after authentication.");
        var name = http.GetRouteValue("workspace") as string ?? "";
        var workspace = await http.RequestServices.GetRequiredService<WorkspaceService>().FindAsync(name, http.RequestAborted);
        if (workspace is null || caller.RoleIn(workspace.Id) is not { } role)
        {
            return Problems.NotFound($"Workspace '{name}' not found.");
        }

        if (role < minimum)
        {
            return Problems.Forbidden($"This needs role '{minimum.ToWireName()}' or higher in workspace '{name}'; the key has '{role.ToWireName()}'.");
        }

        http.RequestServices.GetRequiredService<WorkspaceAccess>().Grant(workspace, caller, role);
        return await next(context);
    }
}

internal sealed class InstanceAdminFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var caller = context.HttpContext.User.GetApiKeyIdentity();
        if (caller is not { IsInstanceAdmin: true })
        {
            return Problems.Forbidden("Only an instance admin key may do this.");
        }

        return await next(context);
    }
}

internal static class AccessExtensions
{
    /// <summary>The endpoint needs a key with at least <paramref name="minimum"/> in the addressed <c>{workspace}</c>.</summary>
    public static RouteHandlerBuilder RequireWorkspaceRole(this RouteHandlerBuilder builder, WorkspaceRole minimum) =>
        builder.RequireAuthorization()
            .AddEndpointFilter(new WorkspaceAccessFilter(minimum))
            .WithMetadata(new AccessMetadata(AccessLevel.WorkspaceRole, minimum))
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

    /// <summary>The endpoint needs an instance admin key.</summary>
    public static RouteHandlerBuilder RequireInstanceAdmin(this RouteHandlerBuilder builder) =>
        builder.RequireAuthorization()
            .AddEndpointFilter(new InstanceAdminFilter())
            .WithMetadata(new AccessMetadata(AccessLevel.InstanceAdmin))
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

    /// <summary>The endpoint needs any valid key; the handler narrows what the key sees.</summary>
    public static RouteHandlerBuilder RequireAnyKey(this RouteHandlerBuilder builder) =>
        builder.RequireAuthorization()
            .WithMetadata(new AccessMetadata(AccessLevel.AnyKey))
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

    /// <summary>The endpoint is open to anyone (health probes).</summary>
    public static TBuilder AllowAnyone<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AllowAnonymous().WithMetadata(new AccessMetadata(AccessLevel.Public));
}
