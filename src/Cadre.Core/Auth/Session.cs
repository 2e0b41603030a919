using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Auth;

/// <summary>
/// A browser sign-in. The cookie carries only the session's ID (protected by Data Protection);
/// the row decides whether it is still good, so sign-out, disabling a user and a password change
/// end sessions at once, on every node.
/// </summary>
internal sealed class Session
{
    public const string IdPrefix = "ses";

    public required string Id { get; init; }

    public required string UserId { get; init; }

    /// <summary>The user's security stamp when signing in; a changed stamp voids the session.</summary>
    public required string SecurityStamp { get; init; }

    public string? UserAgent { get; init; }

    public string? IpAddress { get; init; }

    public DateTime CreatedAt { get; init; }

    public DateTime LastSeenAt { get; set; }

    public DateTime ExpiresAt { get; set; }

    public DateTime? RevokedAt { get; set; }
}

internal sealed class SessionConfiguration : IEntityTypeConfiguration<Session>
{
    public void Configure(EntityTypeBuilder<Session> builder)
    {
        builder.HasKey(s => s.Id);
        builder.HasIndex(s => s.UserId);
        builder.HasIndex(s => s.ExpiresAt);
        builder.HasOne<Users.User>().WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
