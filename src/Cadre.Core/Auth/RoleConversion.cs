using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Auth;

internal static class RoleConversion
{
    /// <summary>Stores a <see cref="WorkspaceRole"/> under its wire name (<c>owner</c>, <c>admin</c>, …).</summary>
    public static PropertyBuilder<WorkspaceRole> HasRoleConversion(this PropertyBuilder<WorkspaceRole> property) =>
        property.HasConversion(r => r.ToWireName(), s => Parse(s));

    private static WorkspaceRole Parse(string name) =>
        WorkspaceRoles.TryParse(name, out var role) ? role : throw new InvalidOperationException($"Unknown role '{name}' in the database.");
}
