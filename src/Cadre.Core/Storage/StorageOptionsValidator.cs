using Microsoft.Extensions.Options;

namespace Cadre.Storage;

/// <summary>Refuses to start with a database setting that cannot be parsed, saying why.</summary>
internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.DataDir))
        {
            return ValidateOptionsResult.Fail("Cadre:DataDir (CADRE_DATA_DIR) must not be empty.");
        }

        return DatabaseTarget.Parse(options.Database, options.DataDir, out var error) is null
            ? ValidateOptionsResult.Fail(error!)
            : ValidateOptionsResult.Success;
    }
}
