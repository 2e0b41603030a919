using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Workspaces;

/// <summary>A tenant: everything else in Cadre lives in exactly one workspace.</summary>
internal sealed class Workspace
{
    public const string IdPrefix = "ws";

    public required string Id { get; init; }

    /// <summary>The unique slug the API addresses the workspace by.</summary>
    public required string Name { get; set; }

    public required string DisplayName { get; set; }

    /// <summary>The settings object as JSON text.</summary>
    public required string Settings { get; set; }

    /// <summary>Incremented on every change; the ETag and the optimistic-concurrency token.</summary>
    public int Version { get; set; }

    /// <summary>The actor who created the workspace.</summary>
    public string? CreatedBy { get; init; }

    /// <summary>The actor who changed the workspace last.</summary>
    public string? UpdatedBy { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class WorkspaceConfiguration : IEntityTypeConfiguration<Workspace>
{
    public void Configure(EntityTypeBuilder<Workspace> builder)
    {
        builder.HasKey(w => w.Id);
        builder.HasIndex(w => w.Name).IsUnique();
        builder.Property(w => w.Version).IsConcurrencyToken();
    }
}
