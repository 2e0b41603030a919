using Cadre.Auth;
using Cadre.Users;
using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Members;

/// <summary>A user's membership of a workspace, with their role in it.</summary>
internal sealed class WorkspaceMember
{
    public required string WorkspaceId { get; init; }

    public required string UserId { get; init; }

    public User? User { get; init; }

    public WorkspaceRole Role { get; set; }

    /// <summary>The actor who added the member (user, service account or instance key).</summary>
    public string? AddedBy { get; init; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class WorkspaceMemberConfiguration : IEntityTypeConfiguration<WorkspaceMember>
{
    public void Configure(EntityTypeBuilder<WorkspaceMember> builder)
    {
        builder.HasKey(m => new { m.WorkspaceId, m.UserId });
        builder.HasIndex(m => m.UserId);
        builder.Property(m => m.Role).HasRoleConversion();
        builder.HasOne<Workspace>().WithMany().HasForeignKey(m => m.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(m => m.User).WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
