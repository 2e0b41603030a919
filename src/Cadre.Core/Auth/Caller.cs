using Cadre.Users;

namespace Cadre.Auth;

/// <summary>What kind of actor a request speaks for.</summary>
public enum CallerKind
{
    /// <summary>A person, through a browser session or one of their API keys.</summary>
    User,

    /// <summary>A workspace's service account, through one of its API keys.</summary>
    ServiceAccount,

    /// <summary>An instance admin key (printed at first start or set by CADRE_ADMIN_KEY): no person behind it.</summary>
    InstanceKey,
}

/// <summary>
/// Who a request speaks for and through what credential. The role in a workspace is never read
/// from the credential alone: it is the actor's current role there, capped by the key's role
/// (see <see cref="AccessService.RoleInAsync"/>).
/// </summary>
/// <param name="ActorId">The user (<c>usr_…</c>), service account (<c>sa_…</c>) or instance key (<c>key_…</c>).</param>
/// <param name="KeyId">The API key used, or null for a browser session.</param>
/// <param name="SessionId">The browser session, or null for an API key.</param>
/// <param name="WorkspaceId">The only workspace the credential may act in, or null for wherever the actor may.</param>
/// <param name="RoleCap">The key's own role: it never acts above it.</param>
/// <param name="ServiceAccountRole">For a service account, its role in its workspace.</param>
/// <param name="InstanceRole">Instance-wide rights of the actor (an instance key is an owner).</param>
public sealed record Caller(
    CallerKind Kind,
    string ActorId,
    string? KeyId,
    string? SessionId,
    string? WorkspaceId,
    WorkspaceRole? RoleCap,
    WorkspaceRole? ServiceAccountRole,
    InstanceRole? InstanceRole)
{
    /// <summary>May manage users and workspaces: an instance admin through a credential not limited to one workspace.</summary>
    public bool IsInstanceAdmin => InstanceRole is not null && WorkspaceId is null;

    public bool IsUser => Kind == CallerKind.User;

    /// <summary>What rate limits, idempotency keys and audit attach to: the key, else the person.</summary>
    public string CredentialId => KeyId ?? ActorId;
}
