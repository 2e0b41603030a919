using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Users;

/// <summary>A person who signs in. Passwords are kept only as ASP.NET Core Identity hashes.</summary>
internal sealed class User
{
    public const string IdPrefix = "usr";

    public required string Id { get; init; }

    /// <summary>The address as the person typed it (trimmed), for display and mail.</summary>
    public required string Email { get; set; }

    /// <summary>The address lower-cased, unique: what sign-in and invitations match on.</summary>
    public required string NormalizedEmail { get; set; }

    public required string DisplayName { get; set; }

    public string? AvatarUrl { get; set; }

    public UserStatus Status { get; set; }

    /// <summary>Instance-wide rights: none for most people.</summary>
    public InstanceRole? InstanceRole { get; set; }

    /// <summary>Null for an account created by invitation or by an admin that has not set a password yet.</summary>
    public string? PasswordHash { get; set; }

    /// <summary>Changes whenever the credentials or the status change; sessions made before are void.</summary>
    public required string SecurityStamp { get; set; }

    public int FailedSignIns { get; set; }

    public DateTime? LockedUntil { get; set; }

    public int Version { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? LastSignInAt { get; set; }
}

public enum UserStatus
{
    Active,
    Disabled,
}

/// <summary>Instance-wide roles. An instance admin manages users and workspaces and acts as owner in every workspace.</summary>
public enum InstanceRole
{
    Admin,

    /// <summary>The first user: an admin that other admins cannot demote or disable.</summary>
    Owner,
}

internal sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> builder)
    {
        builder.HasKey(u => u.Id);
        builder.HasIndex(u => u.NormalizedEmail).IsUnique();
        builder.Property(u => u.Version).IsConcurrencyToken();
        builder.Property(u => u.Status).HasConversion(s => s.ToWireName(), s => WireNames.ParseUserStatus(s));
        builder.Property(u => u.InstanceRole).HasConversion(r => r!.Value.ToWireName(), r => WireNames.ParseInstanceRole(r));
    }
}
