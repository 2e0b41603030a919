using Cadre.Auth;
using Cadre.Common;
using Cadre.Idempotency;
using Cadre.Invitations;
using Cadre.Members;
using Cadre.Secrets;
using Cadre.Nodes;
using Cadre.Notifications;
using Cadre.ServiceAccounts;
using Cadre.Setup;
using Cadre.Storage;
using Cadre.Teams;
using Cadre.Triggers;
using Cadre.Users;
using Cadre.Workspaces;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Cadre;

public static class CoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers Cadre's storage, schema migrations, first-run set-up and domain services. Settings
    /// are read from configuration when first needed, so a host may still change them after this call.
    /// </summary>
    public static IServiceCollection AddCadreCore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IdGenerator>();

        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>());
        services.AddOptions<AdminKeyOptions>().BindConfiguration(AdminKeyOptions.SectionName)
            .Validate(o => string.IsNullOrEmpty(o.AdminKey) || o.AdminKey.Length >= AdminKeyOptions.MinimumLength,
                $"Cadre:AdminKey (CADRE_ADMIN_KEY) must be at least {AdminKeyOptions.MinimumLength} characters long.")
            .ValidateOnStart();
        services.AddOptions<IdempotencyOptions>().BindConfiguration(IdempotencyOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => string.IsNullOrEmpty(o.AdminEmail) == string.IsNullOrEmpty(o.AdminPassword),
                "CADRE_ADMIN_EMAIL and CADRE_ADMIN_PASSWORD (Cadre:Auth:AdminEmail, AdminPassword) go together: set both or neither.")
            .ValidateOnStart();
        services.AddOptions<SmtpOptions>().BindConfiguration(SmtpOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Observability.TelemetryOptions>().BindConfiguration(Observability.TelemetryOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<Observability.CadreMetrics>();

        services.TryAddSingleton(sp => StorageProvider.Create(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        services.AddPooledDbContextFactory<CadreDbContext>((sp, options) => sp.GetRequiredService<StorageProvider>().Configure(options));
        services.TryAddScoped(sp => sp.GetRequiredService<IDbContextFactory<CadreDbContext>>().CreateDbContext());

        services.TryAddSingleton<SchemaMigrator>(sp => ActivatorUtilities.CreateInstance<SchemaMigrator>(sp));
        services.TryAddSingleton<InstanceAdminKeys>();
        services.TryAddSingleton<StartupReport>();
        // Before the database: a key that cannot be used stops the start before anything is migrated or generated.
        services.AddCadreSecrets();
        services.AddHostedService<DatabaseInitializer>();

        services.TryAddScoped<WorkspaceService>();
        services.TryAddScoped<ApiKeyService>();
        services.TryAddScoped<AccessService>();
        services.TryAddScoped<ActorService>();
        services.TryAddScoped<UserService>();
        services.TryAddScoped<OneTimeTokenService>();
        services.TryAddScoped<MembershipService>();
        services.TryAddScoped<InvitationService>();
        services.TryAddScoped<ServiceAccountService>();
        services.TryAddScoped<TeamService>();
        services.TryAddScoped<SetupService>();
        services.TryAddScoped<Personas.PersonaService>();
        services.TryAddScoped<Personas.PersonaDraftService>();
        services.TryAddScoped<Personas.PersonaTransferService>();
        services.TryAddScoped<Workflows.WorkflowService>();
        services.TryAddScoped<Workflows.EventTypeService>();
        services.TryAddScoped<Workflows.WorkflowTransferService>();
        services.AddOptions<Net.OutboundOptions>().BindConfiguration(Net.OutboundOptions.SectionName);
        services.TryAddSingleton<Net.OutboundHttp>();
        services.TryAddEnumerable(ServiceDescriptor.Scoped<Workflows.IAnnotator, Workflows.PersonaAnnotator>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<Workflows.IAnnotator, Workflows.WorkflowAnnotator>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<Workflows.IAnnotator, Workflows.HttpAnnotator>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<Workflows.IAnnotator, Workflows.RunAnnotator>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<Workflows.IAnnotator, Workflows.EventAnnotator>());
        services.TryAddScoped<Workflows.AnnotationService>();
        services.TryAddScoped<Audit.AuditLog>();
        services.TryAddSingleton<Workflows.CompiledWorkflows>();
        services.AddCadreNodes();
        services.AddCadreEngine();
        services.AddCadreSchedules();
        services.AddCadreModels();
        services.AddCadreFiles();
        services.TryAddSingleton<SessionService>();
        services.TryAddSingleton<PasswordPolicy>();
        services.TryAddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        services.TryAddSingleton<IEmailSender, SmtpEmailSender>();
        services.TryAddSingleton<IdempotencyStore>();
        services.AddBackgroundDuty<HousekeepingService>();
        services.AddCadreRetention();
        services.TryAddScoped<Analytics.AnalyticsService>();
        services.TryAddScoped<Analytics.RelatedService>();
        services.AddBackgroundDuty<Analytics.RollupDrain>();
        services.AddHostedService<Storage.Sqlite.SqliteCheckpointer>();
        return services;
    }

    /// <summary>Retention of finished runs, events and webhook deliveries: the settings and the duty that deletes them.</summary>
    private static void AddCadreRetention(this IServiceCollection services)
    {
        services.AddOptions<Retention.RetentionOptions>().BindConfiguration(Retention.RetentionOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Retention.RetentionOptions>, Retention.RetentionOptionsValidator>());
        services.AddBackgroundDuty<Retention.RetentionService>();
    }

    /// <summary>Uploaded files: their settings, the store their bytes go to (local disk) and the service.</summary>
    private static void AddCadreFiles(this IServiceCollection services)
    {
        services.AddOptions<Files.FilesOptions>().BindConfiguration(Files.FilesOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Files.FilesOptions>, Files.FilesOptionsValidator>());
        services.TryAddSingleton<Files.IFileStore, Files.LocalFileStore>();
        services.TryAddScoped<Files.FileService>();
    }

    /// <summary>Model providers, the price table and the chat clients model steps call through.</summary>
    private static void AddCadreModels(this IServiceCollection services)
    {
        services.AddOptions<Llm.ProviderOptions>()
            .Configure<Microsoft.Extensions.Configuration.IConfiguration>(Llm.ProviderOptions.Bind)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Llm.ProviderOptions>, Llm.ProviderOptionsValidator>());
        services.AddOptions<Llm.McpServerOptions>()
            .Configure<Microsoft.Extensions.Configuration.IConfiguration>(Llm.McpServerOptions.Bind)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Llm.McpServerOptions>, Llm.McpServerOptionsValidator>());
        services.TryAddSingleton<Llm.InstanceProviders>();
        services.TryAddSingleton<Llm.ChatClients>();
        services.TryAddSingleton<Llm.AgentTools>();
        services.TryAddScoped<Llm.ProviderService>();
        services.TryAddScoped<Llm.PriceTable>();
        services.TryAddScoped<Llm.MemoryService>();
        services.TryAddScoped<Llm.GuardrailService>();
        services.TryAddScoped<Llm.SkillService>();
        services.TryAddScoped<Llm.SkillInstallService>();
        services.TryAddScoped<Llm.GuardrailChecker>();
    }

    /// <summary>The durable engine: built-in activities, the run service, the task runner and this node's worker pool.</summary>
    private static void AddCadreEngine(this IServiceCollection services)
    {
        services.AddOptions<Runs.EngineOptions>().BindConfiguration(Runs.EngineOptions.SectionName)
            .Validate(o => o.Workers is >= 1 and <= 1024, "Cadre:Engine:Workers must be between 1 and 1024.")
            .Validate(o => o.LeaseDuration >= TimeSpan.FromSeconds(1), "Cadre:Engine:LeaseDuration must be at least 1 second.")
            .Validate(o => o.PollInterval >= TimeSpan.FromMilliseconds(10) && o.PollInterval <= TimeSpan.FromMinutes(1), "Cadre:Engine:PollInterval must be between 10 ms and 1 minute.")
            .Validate(o => o.MaxInlineSteps >= 0, "Cadre:Engine:MaxInlineSteps must not be negative.")
            .Validate(o => o.MaxRunsPerWorkspace >= 0, "Cadre:Engine:MaxRunsPerWorkspace must not be negative.")
            .ValidateOnStart();
        services.TryAddSingleton<Runs.RunNotifier>();
        services.TryAddSingleton<Storage.Postgres.ClusterSignals>();
        services.AddHostedService(sp => sp.GetRequiredService<Storage.Postgres.ClusterSignals>());
        // Its sweep is a background duty; the dispatch an API request does inline after its commit runs on any node.
        services.AddBackgroundDuty<Triggers.EventDispatcher>();
        services.TryAddScoped<Triggers.EventService>();
        services.TryAddScoped<Triggers.WebhookReceiver>();
        services.AddOptions<Triggers.WebhookOptions>().BindConfiguration(Triggers.WebhookOptions.SectionName)
            .Validate(o => o.Timeout > TimeSpan.Zero && o.Timeout <= TimeSpan.FromMinutes(5), "Cadre:Webhooks:Timeout must be between 0 and 5 minutes.")
            .Validate(o => o.FirstRetryDelay > TimeSpan.Zero && o.MaxRetryDelay >= o.FirstRetryDelay, "Cadre:Webhooks:FirstRetryDelay must be positive and at most MaxRetryDelay.")
            .Validate(o => o.GiveUpAfter > TimeSpan.Zero, "Cadre:Webhooks:GiveUpAfter must be positive.")
            .Validate(o => o.LeaseDuration > o.Timeout, "Cadre:Webhooks:LeaseDuration must be longer than Timeout (a lease must outlast an attempt).")
            .Validate(o => o.PollInterval >= TimeSpan.FromMilliseconds(10), "Cadre:Webhooks:PollInterval must be at least 10 ms.")
            .Validate(o => o.Concurrency is >= 1 and <= 256, "Cadre:Webhooks:Concurrency must be between 1 and 256.")
            .ValidateOnStart();
        services.AddBackgroundDuty<Triggers.WebhookSender>();
        services.TryAddScoped<Triggers.WebhookSubscriptionService>();
        services.TryAddSingleton<Runs.RecentRunStates>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Runs.IActivity, Runs.TransformActivity>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Runs.IActivity, Runs.RespondActivity>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Runs.IActivity, Runs.ConditionActivity>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Runs.IActivity, Runs.SwitchActivity>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Runs.IActivity, Runs.SleepActivity>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Runs.IActivity, Runs.HttpActivity>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Runs.IActivity, Runs.ApprovalActivity>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Runs.IActivity, Runs.RunWorkflowActivity>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Runs.IActivity, Runs.EmitEventActivity>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Runs.IActivity, Runs.WaitForEventActivity>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Runs.IActivity, Llm.LlmActivity>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Runs.IActivity, Llm.AgentActivity>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Runs.IActivity, Llm.TriageActivity>());
        services.TryAddScoped<Runs.RunEngine>();
        services.TryAddScoped<Runs.TaskRunner>();
        services.TryAddScoped<Runs.RunService>();
        services.TryAddScoped<Runs.ApprovalService>();
        services.TryAddScoped<Runs.ConversationService>();
        // Not started on an api node: a run started there leaves its first task queued for a worker (TryReserveSlot finds no pool).
        services.AddBackgroundDuty<Runs.RunWorker>();
        services.AddBackgroundDuty<Runs.AbandonedChildrenSweep>();
    }
}
