namespace Cadre.Users;

/// <summary>The lower-case names enums travel and are stored under.</summary>
public static class WireNames
{
    public static string ToWireName(this UserStatus status) => status == UserStatus.Active ? "active" : "disabled";

    public static string ToWireName(this InstanceRole role) => role == InstanceRole.Owner ? "owner" : "admin";

    public static bool TryParseUserStatus(string? name, out UserStatus status)
    {
        status = name == "disabled" ? UserStatus.Disabled : UserStatus.Active;
        return name is "active" or "disabled";
    }

    public static bool TryParseInstanceRole(string? name, out InstanceRole role)
    {
        role = name == "owner" ? InstanceRole.Owner : InstanceRole.Admin;
        return name is "owner" or "admin";
    }

    internal static UserStatus ParseUserStatus(string name) =>
        TryParseUserStatus(name, out var status) ? status : throw new InvalidOperationException($"Unknown user status '{name}'.");

    internal static InstanceRole ParseInstanceRole(string name) =>
        TryParseInstanceRole(name, out var role) ? role : throw new InvalidOperationException($"Unknown instance role '{name}'.");
}
