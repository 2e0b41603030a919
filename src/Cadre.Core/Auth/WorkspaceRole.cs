namespace Cadre.Auth;

/// <summary>
/// What a member or key may do in a workspace. Ordered: each role includes every right of the
/// roles below it, so "at least editor" is a plain comparison.
/// </summary>
public enum WorkspaceRole
{
    /// <summary>Reads everything in the workspace.</summary>
    Viewer = 1,

    /// <summary>Viewer, plus starts, halts and approves runs.</summary>
    Operator = 2,

    /// <summary>Operator, plus creates and changes personas, workflows and other definitions.</summary>
    Editor = 3,

    /// <summary>Editor, plus manages keys, members and workspace settings.</summary>
    Admin = 4,

    /// <summary>Admin, plus deletes the workspace and grants the owner role.</summary>
    Owner = 5,
}

public static class WorkspaceRoles
{
    /// <summary>The wire names, highest first: <c>owner</c>, <c>admin</c>, <c>editor</c>, <c>operator</c>, <c>viewer</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["owner", "admin", "editor", "operator", "viewer"];

    public static string ToWireName(this WorkspaceRole role) => role switch
    {
        WorkspaceRole.Owner => "owner",
        WorkspaceRole.Admin => "admin",
        WorkspaceRole.Editor => "editor",
        WorkspaceRole.Operator => "operator",
        WorkspaceRole.Viewer => "viewer",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "Unknown role."),
    };

    public static bool TryParse(string? name, out WorkspaceRole role)
    {
        role = name switch
        {
            "owner" => WorkspaceRole.Owner,
            "admin" => WorkspaceRole.Admin,
            "editor" => WorkspaceRole.Editor,
            "operator" => WorkspaceRole.Operator,
            "viewer" => WorkspaceRole.Viewer,
            _ => 0,
        };
        return role != 0;
    }
}
