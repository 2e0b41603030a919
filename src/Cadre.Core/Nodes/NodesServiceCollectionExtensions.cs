using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Cadre.Nodes;

internal static class NodesServiceCollectionExtensions
{
    /// <summary>This node's settings and identity, its row in the registry (with the heartbeat), and the registry's reads.</summary>
    public static IServiceCollection AddCadreNodes(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<NodeOptions>().BindConfiguration(NodeOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NodeOptions>, NodeOptionsValidator>());
        services.TryAddSingleton<ThisNode>();
        services.TryAddScoped<NodeService>();
        // Registered before the engine's services, so it stops after them: a node is marked stopped once its workers have handed their leases back.
        services.TryAddSingleton<NodeRegistry>();
        services.AddHostedService(sp => sp.GetRequiredService<NodeRegistry>());
        return services;
    }

    /// <summary>
    /// Registers <typeparamref name="T"/> (a singleton) as a background duty: started on nodes whose
    /// role does background work (<c>all</c>, <c>worker</c>), never on an <c>api</c> node. Only start and
    /// stop are passed on (the duties are <see cref="BackgroundService"/>s).
    /// </summary>
    public static IServiceCollection AddBackgroundDuty<T>(this IServiceCollection services) where T : class, IHostedService
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<T>();
        services.AddHostedService(sp => new BackgroundDuty<T>(sp.GetRequiredService<T>(), sp.GetRequiredService<ThisNode>()));
        return services;
    }

    private sealed class BackgroundDuty<T>(T duty, ThisNode node) : IHostedService where T : IHostedService
    {
        private bool _started;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            _started = node.RunsDuties;
            return _started ? duty.StartAsync(cancellationToken) : Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => _started ? duty.StopAsync(cancellationToken) : Task.CompletedTask;
    }
}
