using Cadre.Auth;
using Cadre.Server.Http;
using Cadre.Workspaces;

namespace Cadre.Server.Auth;

/// <summary>Who may call an endpoint. Every <c>/api/v1</c> endpoint carries exactly one; a test holds us to it.</summary>
public sealed record AccessMetadata(AccessLevel Level, WorkspaceRole? MinimumRole = null)
{
    public string Describe() => Level switch
    {
        AccessLevel.Public => "No sign-in needed.",
        AccessLevel.AnyKey => "Any signed-in caller: a session or a valid API key.",
        AccessLevel.Person => "A person: signed in with a session, or through one of their own API keys.",
        AccessLevel.InstanceAdmin => "An instance admin (a person with instance role admin or owner, or an instance admin key).",
        AccessLevel.WorkspaceRole => $"Role '{MinimumRole!.Value.ToWireName()}' or higher in the workspace (instance admins act as owner).",
        _ => Level.ToString(),
    };
}

public enum AccessLevel
{
    Public,
    AnyKey,
    Person,
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
    private Caller? _caller;

    public WorkspaceRef Workspace => _workspace ?? throw NotResolved();

    public Caller Caller => _caller ?? throw NotResolved();

    /// <summary>The caller's effective role in this workspace.</summary>
    public WorkspaceRole Role { get; private set; }

    /// <summary>Whether the access filter resolved the workspace (the request got past it).</summary>
    public bool IsGranted([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out WorkspaceRef? workspace)
    {
        workspace = _workspace;
        return workspace is not null;
    }

    internal void Grant(WorkspaceRef workspace, Caller caller, WorkspaceRole role)
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
    private static readonly Func<ILogger, string, IDisposable?> WorkspaceScope = LoggerMessage.DefineScope<string>("WorkspaceId:{WorkspaceId}");

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var caller = http.User.GetCaller()
            ?? throw new InvalidOperationException("WorkspaceAccessFilter runs only after authentication.");
        var name = http.GetRouteValue("workspace") as string ?? "";
        var workspace = await http.RequestServices.GetRequiredService<WorkspaceService>().FindAsync(name, http.RequestAborted);
        var role = workspace is null
            ? null
            : await http.RequestServices.GetRequiredService<AccessService>().RoleInAsync(caller, workspace.Id, http.RequestAborted);
        if (workspace is null || role is null)
        {
            return Problems.NotFound($"Workspace '{name}' not found.");
        }

        if (role < minimum)
        {
            return Problems.Forbidden($"This needs role '{minimum.ToWireName()}' or higher in workspace '{name}'; you have '{role.Value.ToWireName()}'.");
        }

        http.RequestServices.GetRequiredService<WorkspaceAccess>().Grant(workspace, caller, role.Value);
        System.Diagnostics.Activity.Current?.SetTag(Cadre.Observability.CadreTelemetry.WorkspaceIdTag, workspace.Id);
        // Every log line of the request's handling names the workspace.
        using var scope = WorkspaceScope(http.RequestServices.GetRequiredService<ILogger<WorkspaceAccessFilter>>(), workspace.Id);
        return await next(context);
    }
}

internal sealed class InstanceAdminFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var caller = context.HttpContext.User.GetCaller();
        if (caller is not { IsInstanceAdmin: true })
        {
            return Problems.Forbidden("Only an instance admin may do this.");
        }

        return await next(context);
    }
}

internal sealed class PersonFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var caller = context.HttpContext.User.GetCaller();
        if (caller is not { IsUser: true })
        {
            return Problems.Forbidden("This is about a person: sign in, or use one of your personal API keys (not a service account or instance key).");
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

    /// <summary>The endpoint is about the signed-in person (a session, or one of their personal keys).</summary>
    public static RouteHandlerBuilder RequirePerson(this RouteHandlerBuilder builder) =>
        builder.RequireAuthorization()
            .AddEndpointFilter(new PersonFilter())
            .WithMetadata(new AccessMetadata(AccessLevel.Person))
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
