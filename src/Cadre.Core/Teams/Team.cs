using Cadre.Members;
using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Teams;

/// <summary>A group of a workspace's members: approvers, the owners of workflows, a filter.</summary>
internal sealed class Team
{
    public const string IdPrefix = "team";

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    /// <summary>Unique in the workspace.</summary>
    public required string Name { get; set; }

    public string? Description { get; set; }

    public string? CreatedBy { get; init; }

    public string? UpdatedBy { get; set; }

    public int Version { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class TeamMember
{
    public required string TeamId { get; init; }

    public required string UserId { get; init; }

    /// <summary>The team's workspace, so the membership row it depends on can be referenced.</summary>
    public required string WorkspaceId { get; init; }

    public string? AddedBy { get; init; }

    public DateTime CreatedAt { get; init; }
}

internal sealed class TeamConfiguration : IEntityTypeConfiguration<Team>
{
    public void Configure(EntityTypeBuilder<Team> builder)
    {
        builder.HasKey(t => t.Id);
        builder.HasIndex(t => new { t.WorkspaceId, t.Name }).IsUnique();
        builder.Property(t => t.Version).IsConcurrencyToken();
        builder.HasOne<Workspace>().WithMany().HasForeignKey(t => t.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class TeamMemberConfiguration : IEntityTypeConfiguration<TeamMember>
{
    public void Configure(EntityTypeBuilder<TeamMember> builder)
    {
        builder.HasKey(m => new { m.TeamId, m.UserId });
        builder.HasIndex(m => new { m.WorkspaceId, m.UserId });
        builder.HasOne<Team>().WithMany().HasForeignKey(m => m.TeamId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<WorkspaceMember>().WithMany()
            .HasForeignKey(m => new { m.WorkspaceId, m.UserId })
            .HasPrincipalKey(m => new { m.WorkspaceId, m.UserId })
            .OnDelete(DeleteBehavior.Cascade);
    }
}
