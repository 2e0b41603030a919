using Cadre.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cadre.Triggers;

internal static class TriggerServiceCollectionExtensions
{
    /// <summary>Schedule triggers: the settings, the schedule reads of the API, and this node's scheduler.</summary>
    public static IServiceCollection AddCadreSchedules(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<ScheduleOptions>().BindConfiguration(ScheduleOptions.SectionName)
            .Validate(o => o.PollInterval >= TimeSpan.FromMilliseconds(10) && o.PollInterval <= TimeSpan.FromMinutes(1), "Cadre:Schedules:PollInterval must be between 10 ms and 1 minute.")
            .Validate(o => o.MisfireThreshold >= TimeSpan.FromSeconds(1), "Cadre:Schedules:MisfireThreshold must be at least 1 second.")
            .ValidateOnStart();
        services.TryAddSingleton<ScheduleSignal>();
        services.TryAddScoped<ScheduleService>();
        services.AddBackgroundDuty<ScheduleWorker>();
        return services;
    }
}
