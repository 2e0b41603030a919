using Cadre.Auth;
using Cadre.Users;
using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.ServiceAccounts;

/// <summary>A machine identity of one workspace: CI, an integration. It acts through its API keys, never above its role.</summary>
internal sealed class ServiceAccount
{
    public const string IdPrefix = "sa";

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    /// <summary>Unique in the workspace.</summary>
    public required string Name { get; set; }

    public string? Description { get; set; }

    public WorkspaceRole Role { get; set; }

    public UserStatus Status { get; set; }

    public string? CreatedBy { get; init; }

    public string? UpdatedBy { get; set; }

    public int Version { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class ServiceAccountConfiguration : IEntityTypeConfiguration<ServiceAccount>
{
    public void Configure(EntityTypeBuilder<ServiceAccount> builder)
    {
        builder.HasKey(s => s.Id);
        builder.HasIndex(s => new { s.WorkspaceId, s.Name }).IsUnique();
        builder.Property(s => s.Version).IsConcurrencyToken();
        builder.Property(s => s.Role).HasRoleConversion();
        builder.Property(s => s.Status).HasConversion(s => s.ToWireName(), s => WireNames.ParseUserStatus(s));
        builder.HasOne<Workspace>().WithMany().HasForeignKey(s => s.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}
