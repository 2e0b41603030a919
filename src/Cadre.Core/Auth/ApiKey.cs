using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Auth;

/// <summary>
/// A machine credential. Only a SHA-256 hash of the secret is stored; the secret itself is shown
/// once, at creation. A key without a workspace is an instance admin key: owner of every workspace.
/// </summary>
internal sealed class ApiKey
{
    public const string IdPrefix = "key";

    public required string Id { get; init; }

    /// <summary>The workspace the key acts in; null for an instance admin key.</summary>
    public string? WorkspaceId { get; init; }

    public Workspace? Workspace { get; init; }

    public required string Name { get; init; }

    public WorkspaceRole Role { get; init; }

    /// <summary>The first characters of the secret, enough for a person to recognise the key in a list.</summary>
    public required string KeyPrefix { get; init; }

    public required byte[] KeyHash { get; init; }

    /// <summary>The person the key belongs to; it never acts above their current role.</summary>
    public string? UserId { get; init; }

    /// <summary>The service account the key belongs to; it never acts above the account's role.</summary>
    public string? ServiceAccountId { get; init; }

    /// <summary>The key the creator used, if any (kept from schema 1; <see cref="CreatedBy"/> names the actor).</summary>
    public string? CreatedByKeyId { get; init; }

    /// <summary>The actor who created the key: a user, a service account or an instance key.</summary>
    public string? CreatedBy { get; init; }

    public DateTime CreatedAt { get; init; }

    public DateTime? ExpiresAt { get; init; }

    public DateTime? RevokedAt { get; set; }

    public DateTime? LastUsedAt { get; set; }
}

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> builder)
    {
        builder.HasKey(k => k.Id);
        builder.HasIndex(k => k.KeyHash).IsUnique();
        builder.HasIndex(k => new { k.WorkspaceId, k.Id });
        builder.HasIndex(k => k.UserId);
        builder.HasIndex(k => k.ServiceAccountId);
        builder.Property(k => k.Role).HasRoleConversion();
        builder.HasOne(k => k.Workspace).WithMany().HasForeignKey(k => k.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Users.User>().WithMany().HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<ServiceAccounts.ServiceAccount>().WithMany().HasForeignKey(k => k.ServiceAccountId).OnDelete(DeleteBehavior.Cascade);
    }
}
