using Cadre.Auth;
using Cadre.Common;
using Cadre.Idempotency;
using Cadre.Storage;
using Cadre.Workspaces;
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
        services.AddOptions<AdminKeyOptions>().BindConfiguration(StorageOptions.SectionName)
            .Validate(o => string.IsNullOrEmpty(o.AdminKey) || o.AdminKey.Length >= AdminKeyOptions.MinimumLength,
                $"Cadre:AdminKey (CADRE_ADMIN_KEY) must be at least {AdminKeyOptions.MinimumLength} characters long.")
            .ValidateOnStart();
        services.AddOptions<IdempotencyOptions>().BindConfiguration(IdempotencyOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();

        services.TryAddSingleton(sp => StorageProvider.Create(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        services.AddDbContextFactory<CadreDbContext>((sp, options) => sp.GetRequiredService<StorageProvider>().Configure(options));
        services.TryAddScoped(sp => sp.GetRequiredService<IDbContextFactory<CadreDbContext>>().CreateDbContext());

        services.TryAddSingleton<SchemaMigrator>(sp => ActivatorUtilities.CreateInstance<SchemaMigrator>(sp));
        services.TryAddSingleton<InstanceAdminKeys>();
        services.TryAddSingleton<StartupReport>();
        services.AddHostedService<DatabaseInitializer>();

        services.TryAddScoped<WorkspaceService>();
        services.TryAddScoped<ApiKeyService>();
        services.TryAddSingleton<IdempotencyStore>();
        services.AddHostedService<IdempotencyPurgeService>();
        return services;
    }
}
