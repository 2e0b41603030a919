using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Cadre.Secrets;

public static class SecretsServiceCollectionExtensions
{
    /// <summary>
    /// Workspace secrets: the encryption keys (<c>Cadre:Encryption</c>, checked and loaded at start-up,
    /// the key file made on the first start), the cipher and the secret service.
    /// </summary>
    public static IServiceCollection AddCadreSecrets(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<EncryptionOptions>().BindConfiguration(EncryptionOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EncryptionOptions>, EncryptionOptionsValidator>());
        services.TryAddSingleton<EncryptionKeys>();
        services.TryAddSingleton<SecretCipher>();
        services.TryAddScoped<SecretService>();
        services.AddHostedService<EncryptionKeyInitializer>();
        return services;
    }
}
