using Cadre.Auth;
using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Invitations;

/// <summary>An offer to join a workspace with a role, redeemed once with a secret token before it expires.</summary>
internal sealed class Invitation
{
    public const string IdPrefix = "inv";

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    public required string Email { get; init; }

    public required string NormalizedEmail { get; init; }

    public WorkspaceRole Role { get; init; }

    public required byte[] TokenHash { get; init; }

    public string? CreatedBy { get; init; }

    public DateTime CreatedAt { get; init; }

    public DateTime ExpiresAt { get; init; }

    public DateTime? AcceptedAt { get; set; }

    public string? AcceptedBy { get; set; }

    public DateTime? RevokedAt { get; set; }
}

internal sealed class InvitationConfiguration : IEntityTypeConfiguration<Invitation>
{
    public void Configure(EntityTypeBuilder<Invitation> builder)
    {
        builder.HasKey(i => i.Id);
        builder.HasIndex(i => i.TokenHash).IsUnique();
        builder.HasIndex(i => new { i.WorkspaceId, i.Id });
        builder.Property(i => i.Role).HasRoleConversion();
        builder.HasOne<Workspace>().WithMany().HasForeignKey(i => i.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}
