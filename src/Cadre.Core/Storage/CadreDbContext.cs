using Cadre.Auth;
using Cadre.Idempotency;
using Cadre.Invitations;
using Cadre.Members;
using Cadre.ServiceAccounts;
using Cadre.Teams;
using Cadre.Users;
using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Cadre.Storage;

/// <summary>
/// Cadre's EF Core model, the same for SQLite and PostgreSQL. Names are snake_case (set by the
/// provider registration); the schema itself is created by the versioned SQL scripts the
/// <see cref="SchemaMigrator"/> applies, not by EF.
/// </summary>
internal sealed class CadreDbContext(DbContextOptions<CadreDbContext> options) : DbContext(options)
{
    public DbSet<Workspace> Workspaces => Set<Workspace>();

    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();

    public DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();

    public DbSet<User> Users => Set<User>();

    public DbSet<Session> Sessions => Set<Session>();

    public DbSet<OneTimeToken> OneTimeTokens => Set<OneTimeToken>();

    public DbSet<WorkspaceMember> WorkspaceMembers => Set<WorkspaceMember>();

    public DbSet<ServiceAccount> ServiceAccounts => Set<ServiceAccount>();

    public DbSet<Team> Teams => Set<Team>();

    public DbSet<TeamMember> TeamMembers => Set<TeamMember>();

    public DbSet<Invitation> Invitations => Set<Invitation>();

    public DbSet<Personas.Persona> Personas => Set<Personas.Persona>();

    public DbSet<Personas.PersonaLabel> PersonaLabels => Set<Personas.PersonaLabel>();

    public DbSet<Personas.PersonaVersion> PersonaVersions => Set<Personas.PersonaVersion>();

    public DbSet<Personas.PersonaDraft> PersonaDrafts => Set<Personas.PersonaDraft>();

    public DbSet<Workflows.Workflow> Workflows => Set<Workflows.Workflow>();

    public DbSet<Workflows.WorkflowLabel> WorkflowLabels => Set<Workflows.WorkflowLabel>();

    public DbSet<Workflows.WorkflowVersion> WorkflowVersions => Set<Workflows.WorkflowVersion>();

    public DbSet<Workflows.CustomEventType> EventTypes => Set<Workflows.CustomEventType>();

    public DbSet<Runs.Run> Runs => Set<Runs.Run>();

    public DbSet<Runs.RunStep> RunSteps => Set<Runs.RunStep>();

    public DbSet<Runs.RunTask> Tasks => Set<Runs.RunTask>();

    public DbSet<Runs.RunEvent> RunEvents => Set<Runs.RunEvent>();

    public DbSet<Runs.WorkflowRunCounter> WorkflowRunCounters => Set<Runs.WorkflowRunCounter>();

    public DbSet<Runs.Approval> Approvals => Set<Runs.Approval>();

    public DbSet<Runs.ApprovalApprover> ApprovalApprovers => Set<Runs.ApprovalApprover>();

    public DbSet<Runs.ApprovalDecision> ApprovalDecisions => Set<Runs.ApprovalDecision>();

    public DbSet<Runs.WorkspaceEvent> WorkspaceEvents => Set<Runs.WorkspaceEvent>();

    public DbSet<Runs.EventWait> EventWaits => Set<Runs.EventWait>();

    public DbSet<Triggers.WebhookSubscription> WebhookSubscriptions => Set<Triggers.WebhookSubscription>();

    public DbSet<Triggers.WebhookDelivery> WebhookDeliveries => Set<Triggers.WebhookDelivery>();

    public DbSet<Triggers.WebhookDeliveryAttempt> WebhookDeliveryAttempts => Set<Triggers.WebhookDeliveryAttempt>();

    public DbSet<Runs.StepCheckpoint> StepCheckpoints => Set<Runs.StepCheckpoint>();

    public DbSet<Llm.Skill> Skills => Set<Llm.Skill>();

    public DbSet<Llm.Guardrail> Guardrails => Set<Llm.Guardrail>();

    public DbSet<Llm.MemoryNote> Memories => Set<Llm.MemoryNote>();

    public DbSet<Llm.ModelProvider> ModelProviders => Set<Llm.ModelProvider>();

    public DbSet<Llm.ModelPriceOverride> ModelPrices => Set<Llm.ModelPriceOverride>();

    public DbSet<Triggers.WorkflowSchedule> WorkflowSchedules => Set<Triggers.WorkflowSchedule>();
    public DbSet<Secrets.Secret> Secrets => Set<Secrets.Secret>();
    public DbSet<Files.StoredFile> Files => Set<Files.StoredFile>();

    public DbSet<Files.RunFile> RunFiles => Set<Files.RunFile>();

    public DbSet<Nodes.Node> Nodes => Set<Nodes.Node>();

    public DbSet<Analytics.AnalyticsFact> AnalyticsFacts => Set<Analytics.AnalyticsFact>();

    public DbSet<Analytics.AnalyticsRollup> AnalyticsRollups => Set<Analytics.AnalyticsRollup>();
    public DbSet<Audit.AuditEntry> AuditEntries => Set<Audit.AuditEntry>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(CadreDbContext).Assembly);

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every stored time is UTC. SQLite hands DateTime back as Unspecified; this marks it UTC again.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        value => value.Kind == DateTimeKind.Utc ? value : value.ToUniversalTime(),
        value => DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
