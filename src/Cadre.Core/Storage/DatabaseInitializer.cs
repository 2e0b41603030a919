using Cadre.Auth;
using Cadre.Setup;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cadre.Storage;

/// <summary>
/// Brings the database up to date and makes sure an admin key exists before anything else starts
/// (in <see cref="IHostedLifecycleService.StartingAsync"/>, ahead of the HTTP server and workers).
/// A database this build cannot use stops the process with the reason.
/// </summary>
internal sealed class DatabaseInitializer(
    SchemaMigrator migrator,
    InstanceAdminKeys adminKeys,
    StorageProvider storage,
    IOptions<AdminKeyOptions> adminKeyOptions,
    IOptions<StorageOptions> storageOptions,
    StartupReport report,
    IServiceScopeFactory scopes,
    ILogger<DatabaseInitializer> logger) : IHostedLifecycleService
{
    public const string AdminKeyFileName = "admin-key";

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        report.Database = storage.Target.Description;
        try
        {
            report.Schema = await migrator.MigrateAsync(cancellationToken);
        }
        catch (SchemaMigrationException ex)
        {
            logger.LogCritical("Cadre cannot start: {Reason}", ex.Message);
            throw;
        }

        var configuredKey = adminKeyOptions.Value.AdminKey;
        var generated = await adminKeys.EnsureAsync(string.IsNullOrEmpty(configuredKey) ? null : configuredKey, cancellationToken);
        if (generated is not null)
        {
            report.GeneratedAdminKey = generated;
            report.AdminKeyFile = await TryWriteKeyFileAsync(generated, cancellationToken);
        }

        await using var scope = scopes.CreateAsyncScope();
        if (await scope.ServiceProvider.GetRequiredService<SetupService>().PrepareAsync(cancellationToken) is { } setup)
        {
            report.SetupCode = setup.Code;
            report.SetupCodeExpiresAt = setup.ExpiresAt;
        }
    }

    private async Task<string?> TryWriteKeyFileAsync(string key, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Path.GetFullPath(storageOptions.Value.DataDir), AdminKeyFileName);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Delete(path);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await using var stream = new FileStream(path, options);
            await using var writer = new StreamWriter(stream);
            await writer.WriteLineAsync(key.AsMemory(), cancellationToken);
            return path;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Could not write the admin key to {Path}; it is printed once on the console only", path);
            return null;
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
