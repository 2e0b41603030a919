using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Llm;

/// <summary>A workspace's connection to a model provider: which wire format, where, and with what key.</summary>
internal sealed class ModelProvider
{
    public const string IdPrefix = "prv";

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    /// <summary>What personas and steps name in <c>model.provider</c>.</summary>
    public required string Name { get; init; }

    /// <summary><c>openai</c> (any OpenAI-compatible server), <c>anthropic</c> or <c>mock</c>.</summary>
    public required string Kind { get; set; }

    public string? BaseUrl { get; set; }

    /// <summary>Encrypted with the instance's key ring (<see cref="Common.ISecretProtector"/>); never returned.</summary>
    public string? ApiKeyProtected { get; set; }

    /// <summary>The key's last four characters, so people can tell keys apart.</summary>
    public string? ApiKeyHint { get; set; }

    public string? DefaultModel { get; set; }

    public int TimeoutSeconds { get; set; }

    public int MaxRetries { get; set; }

    public int Version { get; set; }

    public string? CreatedBy { get; init; }

    public string? UpdatedBy { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }
}

/// <summary>A workspace's own price for a model, over the built-in table.</summary>
internal sealed class ModelPriceOverride
{
    public required string WorkspaceId { get; init; }

    public required string Model { get; init; }

    public long InputMicrosPerMtok { get; set; }

    public long OutputMicrosPerMtok { get; set; }

    public long CachedInputMicrosPerMtok { get; set; }

    public string? UpdatedBy { get; set; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class ModelProviderConfiguration : IEntityTypeConfiguration<ModelProvider>
{
    public void Configure(EntityTypeBuilder<ModelProvider> builder)
    {
        builder.ToTable("model_providers");
        builder.HasKey(p => p.Id);
        builder.HasIndex(p => new { p.WorkspaceId, p.Name }).IsUnique();
        builder.Property(p => p.Version).IsConcurrencyToken();
        builder.HasOne<Workspace>().WithMany().HasForeignKey(p => p.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ModelPriceOverrideConfiguration : IEntityTypeConfiguration<ModelPriceOverride>
{
    public void Configure(EntityTypeBuilder<ModelPriceOverride> builder)
    {
        builder.ToTable("model_prices");
        builder.HasKey(p => new { p.WorkspaceId, p.Model });
        builder.HasOne<Workspace>().WithMany().HasForeignKey(p => p.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}
