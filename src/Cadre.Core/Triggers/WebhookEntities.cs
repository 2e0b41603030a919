using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Triggers;

/// <summary>A workspace's subscription: events of the types it names are posted to its URL, signed with its own secret.</summary>
internal sealed class WebhookSubscription
{
    public const string IdPrefix = "whs";

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    public required string Url { get; set; }

    /// <summary>Event types or patterns (<c>ticket.*</c>), as a JSON array.</summary>
    public required string EventTypes { get; set; }

    public string? Description { get; set; }

    public bool IsActive { get; set; }

    /// <summary>The signing secret (<c>whsec_…</c>), encrypted.</summary>
    public required string SecretProtected { get; set; }

    public int Version { get; set; }

    public string? CreatedBy { get; init; }

    public string? UpdatedBy { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }
}

/// <summary>One message to post, kept until delivered or given up; its ID is the <c>webhook-id</c> of every attempt.</summary>
internal sealed class WebhookDelivery
{
    public const string IdPrefix = "msg";

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    public string? SubscriptionId { get; init; }

    public string? WorkflowId { get; init; }

    public string? RunId { get; init; }

    public string? EventId { get; init; }

    public required string Url { get; init; }

    public required string EventType { get; init; }

    /// <summary>The body posted, the same on every attempt.</summary>
    public required string Payload { get; init; }

    /// <summary>For a workflow's notification: the workspace secret that signs it.</summary>
    public string? SigningSecret { get; init; }

    /// <summary><c>pending</c>, <c>delivered</c> or <c>dead</c> (given up).</summary>
    public required string Status { get; set; }

    public int Attempts { get; set; }

    public DateTime? NextAttemptAt { get; set; }

    public string? LeaseOwner { get; set; }

    public DateTime? LeaseExpiresAt { get; set; }

    public int? LastStatusCode { get; set; }

    public string? LastError { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime? FinishedAt { get; set; }
}

internal sealed class WebhookDeliveryAttempt
{
    public required string DeliveryId { get; init; }

    public int Attempt { get; init; }

    public DateTime StartedAt { get; init; }

    public int DurationMs { get; init; }

    public int? StatusCode { get; init; }

    public string? Error { get; init; }

    /// <summary>The start of the receiver's answer (at most 1 KiB).</summary>
    public string? Response { get; init; }
}

internal sealed class WebhookSubscriptionConfiguration : IEntityTypeConfiguration<WebhookSubscription>
{
    public void Configure(EntityTypeBuilder<WebhookSubscription> builder)
    {
        builder.ToTable("webhook_subscriptions");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Version).IsConcurrencyToken();
        builder.HasOne<Workspace>().WithMany().HasForeignKey(s => s.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WebhookDeliveryConfiguration : IEntityTypeConfiguration<WebhookDelivery>
{
    public void Configure(EntityTypeBuilder<WebhookDelivery> builder)
    {
        builder.ToTable("webhook_deliveries");
        builder.HasKey(d => d.Id);
        builder.HasOne<Workspace>().WithMany().HasForeignKey(d => d.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<WebhookSubscription>().WithMany().HasForeignKey(d => d.SubscriptionId).OnDelete(DeleteBehavior.SetNull);
    }
}

internal sealed class WebhookDeliveryAttemptConfiguration : IEntityTypeConfiguration<WebhookDeliveryAttempt>
{
    public void Configure(EntityTypeBuilder<WebhookDeliveryAttempt> builder)
    {
        builder.ToTable("webhook_delivery_attempts");
        builder.HasKey(a => new { a.DeliveryId, a.Attempt });
        builder.HasOne<WebhookDelivery>().WithMany().HasForeignKey(a => a.DeliveryId).OnDelete(DeleteBehavior.Cascade);
    }
}
