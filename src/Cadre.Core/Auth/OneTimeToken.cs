using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Auth;

/// <summary>A single-use secret sent to a person: the first-run setup code, a password reset link.</summary>
internal sealed class OneTimeToken
{
    public const string IdPrefix = "ott";

    public required string Id { get; init; }

    public OneTimeTokenPurpose Purpose { get; init; }

    public string? UserId { get; init; }

    public required byte[] TokenHash { get; init; }

    public DateTime CreatedAt { get; init; }

    public DateTime ExpiresAt { get; init; }

    public DateTime? UsedAt { get; set; }
}

public enum OneTimeTokenPurpose
{
    Setup,
    PasswordReset,
}

internal sealed class OneTimeTokenConfiguration : IEntityTypeConfiguration<OneTimeToken>
{
    public void Configure(EntityTypeBuilder<OneTimeToken> builder)
    {
        builder.HasKey(t => t.Id);
        builder.HasIndex(t => t.TokenHash).IsUnique();
        builder.Property(t => t.Purpose).HasConversion(
            p => p == OneTimeTokenPurpose.Setup ? "setup" : "password_reset",
            s => s == "setup" ? OneTimeTokenPurpose.Setup : OneTimeTokenPurpose.PasswordReset);
        builder.HasOne<Users.User>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
