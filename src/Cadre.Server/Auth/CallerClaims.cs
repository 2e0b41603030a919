using System.Security.Claims;
using Cadre.Auth;
using Cadre.Users;

namespace Cadre.Server.Auth;

/// <summary>How a <see cref="Caller"/> travels in a <see cref="ClaimsPrincipal"/>.</summary>
internal static class CallerClaims
{
    public const string Kind = "cadre:kind";
    public const string Actor = "cadre:actor";
    public const string Key = "cadre:key";
    public const string Session = "cadre:session";
    public const string Workspace = "cadre:workspace";
    public const string RoleCap = "cadre:role_cap";
    public const string AccountRole = "cadre:account_role";
    public const string InstanceRole = "cadre:instance_role";

    public static ClaimsPrincipal ToPrincipal(Caller caller, string authenticationType)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var claims = new List<Claim>
        {
            new(Kind, caller.Kind.ToString()),
            new(Actor, caller.ActorId),
            // The antiforgery system ties its tokens to this claim.
            new(ClaimTypes.NameIdentifier, caller.ActorId),
        };
        Add(claims, Key, caller.KeyId);
        Add(claims, Session, caller.SessionId);
        Add(claims, Workspace, caller.WorkspaceId);
        Add(claims, RoleCap, caller.RoleCap?.ToWireName());
        Add(claims, AccountRole, caller.ServiceAccountRole?.ToWireName());
        Add(claims, InstanceRole, caller.InstanceRole?.ToWireName());
        return new ClaimsPrincipal(new ClaimsIdentity(claims, authenticationType));
    }

    /// <summary>The caller behind an authenticated request, or null for an anonymous one.</summary>
    public static Caller? GetCaller(this ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (principal.FindFirstValue(Actor) is not { } actor || !Enum.TryParse<CallerKind>(principal.FindFirstValue(Kind), out var kind))
        {
            return null;
        }

        return new Caller(
            kind,
            actor,
            principal.FindFirstValue(Key),
            principal.FindFirstValue(Session),
            principal.FindFirstValue(Workspace),
            WorkspaceRoles.TryParse(principal.FindFirstValue(RoleCap), out var cap) ? cap : null,
            WorkspaceRoles.TryParse(principal.FindFirstValue(AccountRole), out var accountRole) ? accountRole : null,
            WireNames.TryParseInstanceRole(principal.FindFirstValue(InstanceRole), out var instanceRole) ? instanceRole : null);
    }

    private static void Add(List<Claim> claims, string type, string? value)
    {
        if (value is not null)
        {
            claims.Add(new Claim(type, value));
        }
    }
}
