using Cadre.Common;
using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Personas;

/// <summary>
/// A persona's current state: the full definition as JSON, with the fields lists filter, sort and
/// search on kept beside it as columns.
/// </summary>
internal sealed class Persona : IBinnable
{
    public const string IdPrefix = "per";

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    public required string Name { get; set; }

    public required string DisplayName { get; set; }

    public string? Description { get; set; }

    public required string Instructions { get; set; }

    public string? Provider { get; set; }

    public string? Model { get; set; }

    /// <summary>The normalized <see cref="PersonaSpec"/> as JSON.</summary>
    public required string Definition { get; set; }

    public int Version { get; set; }

    public string? CreatedBy { get; init; }

    public string? UpdatedBy { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }

    /// <summary>Set while the persona is in the bin: hidden from lists, restorable.</summary>
    public DateTime? DeletedAt { get; set; }

    public string? DeletedBy { get; set; }
}

/// <summary>A department, tag, flag or parameter name of a persona, lower-cased, for indexed filters.</summary>
internal sealed class PersonaLabel
{
    public required string PersonaId { get; init; }

    public required string Kind { get; init; }

    public required string Value { get; init; }

    public required string WorkspaceId { get; init; }
}

/// <summary>A persona as it was at one version.</summary>
internal sealed class PersonaVersion
{
    public required string PersonaId { get; init; }

    public int Version { get; init; }

    public required string Definition { get; init; }

    /// <summary>What made the version: created, updated, published, reverted, restored or imported.</summary>
    public required string Change { get; init; }

    public string? CreatedBy { get; init; }

    public DateTime CreatedAt { get; init; }
}

/// <summary>One editor's unpublished changes to a persona.</summary>
internal sealed class PersonaDraft
{
    public required string PersonaId { get; init; }

    /// <summary>The user or service account editing.</summary>
    public required string OwnerId { get; init; }

    public required string WorkspaceId { get; init; }

    public required string Definition { get; set; }

    /// <summary>The persona version the draft started from; publishing over a newer one is a conflict.</summary>
    public int BaseVersion { get; set; }

    /// <summary>Incremented by every change to the draft; what <c>expectedVersion</c> is checked against.</summary>
    public int Revision { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class PersonaConfiguration : IEntityTypeConfiguration<Persona>
{
    public void Configure(EntityTypeBuilder<Persona> builder)
    {
        builder.HasKey(p => p.Id);
        builder.HasIndex(p => new { p.WorkspaceId, p.Name }).IsUnique().HasFilter("deleted_at IS NULL");
        builder.HasIndex(p => new { p.WorkspaceId, p.Id });
        builder.Property(p => p.Version).IsConcurrencyToken();
        builder.HasOne<Workspace>().WithMany().HasForeignKey(p => p.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class PersonaLabelConfiguration : IEntityTypeConfiguration<PersonaLabel>
{
    public void Configure(EntityTypeBuilder<PersonaLabel> builder)
    {
        builder.HasKey(l => new { l.PersonaId, l.Kind, l.Value });
        builder.HasIndex(l => new { l.WorkspaceId, l.Kind, l.Value });
        builder.HasOne<Persona>().WithMany().HasForeignKey(l => l.PersonaId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class PersonaVersionConfiguration : IEntityTypeConfiguration<PersonaVersion>
{
    public void Configure(EntityTypeBuilder<PersonaVersion> builder)
    {
        builder.HasKey(v => new { v.PersonaId, v.Version });
        builder.HasOne<Persona>().WithMany().HasForeignKey(v => v.PersonaId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class PersonaDraftConfiguration : IEntityTypeConfiguration<PersonaDraft>
{
    public void Configure(EntityTypeBuilder<PersonaDraft> builder)
    {
        builder.HasKey(d => new { d.PersonaId, d.OwnerId });
        builder.HasIndex(d => new { d.WorkspaceId, d.OwnerId });
        builder.Property(d => d.Revision).IsConcurrencyToken();
        builder.HasOne<Persona>().WithMany().HasForeignKey(d => d.PersonaId).OnDelete(DeleteBehavior.Cascade);
    }
}
