using Cadre.Storage;
using Microsoft.Extensions.Options;

namespace Cadre.Server.Hosting;

/// <summary>
/// Turns a start refused for a reason the operator must fix (a bad setting, a database migrated
/// by a newer Cadre, a lost encryption key file) into that reason as the last line of output and exit code 1, instead of an
/// unhandled-exception abort.
/// </summary>
internal static class StartupFailures
{
    public static async Task<int> ReportAsync(Func<Task> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        try
        {
            await run();
            return 0;
        }
        catch (Exception ex) when (ex is OptionsValidationException or SchemaMigrationException or Cadre.Secrets.EncryptionKeyException)
        {
            await Console.Error.WriteLineAsync($"Cadre cannot start: {ex.Message}");
            return 1;
        }
    }
}
