using System.Security.Claims;
using Cadre.Auth;

namespace Cadre.Server.Auth;

/// <summary>How an authenticated API key travels in a <see cref="ClaimsPrincipal"/>.</summary>
internal static class CallerClaims
{
    public const string KeyId = "cadre:key";
    public const string WorkspaceId = "cadre:workspace";
    public const string Role = "cadre:role";

    public static IEnumerable<Claim> From(ApiKeyIdentity identity)
    {
        yield return new Claim(KeyId, identity.KeyId);
        yield return new Claim(Role, identity.Role.ToWireName());
        if (identity.WorkspaceId is not null)
        {
            yield return new Claim(WorkspaceId, identity.WorkspaceId);
        }
    }

    /// <summary>The key behind an authenticated request, or null for an anonymous one.</summary>
    public static ApiKeyIdentity? GetApiKeyIdentity(this ClaimsPrincipal principal)
    {
        var keyId = principal.FindFirstValue(KeyId);
        if (keyId is null || !WorkspaceRoles.TryParse(principal.FindFirstValue(Role), out var role))
        {
            return null;
        }

        return new ApiKeyIdentity(keyId, principal.FindFirstValue(WorkspaceId), role);
    }
}
