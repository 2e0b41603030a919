using Cadre.Server.Health;
using Cadre.Server.Hosting;

// The container's health probe asks a running server and exits; it starts no host of its own.
if (args is [HealthProbe.Command, .. var probeArguments])
{
    return await HealthProbe.RunAsync(probeArguments);
}

return await CadreHost.RunAsync(args);

/// <summary>The entry point, visible to <c>WebApplicationFactory</c> in the tests.</summary>
public partial class Program;
