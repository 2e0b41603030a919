using Cadre.Server.Auth;
using Cadre.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Cadre.Server.Health;

/// <summary>The answer of the health probes.</summary>
/// <param name="Status"><c>ok</c>, or <c>unavailable</c> with the reason in <paramref name="Detail"/>.</param>
/// <param name="SchemaVersion">The database's schema version (readiness only).</param>
public sealed record HealthResponse(string Status, string? Detail = null, int? SchemaVersion = null);

internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok")))
            .WithName("Liveness")
            .WithSummary("Liveness: the process is up")
            .WithTags("Health")
            .AllowAnyone()
            .DisableRateLimiting();

        app.MapGet("/readyz", Ready)
            .WithName("Readiness")
            .WithSummary("Readiness: the database is reachable and this build can use its schema")
            .WithTags("Health")
            .AllowAnyone()
            .DisableRateLimiting()
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable);

        return app;
    }

    private static async Task<Results<Ok<HealthResponse>, JsonHttpResult<HealthResponse>>> Ready(
        SchemaMigrator migrator, StorageProvider storage, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        SchemaStatus status;
        try
        {
            status = await migrator.GetStatusAsync(timeout.Token);
        }
        catch (Exception ex) when (storage.IsTransientFailure(ex) || ex is OperationCanceledException or System.Data.Common.DbException)
        {
            loggers.CreateLogger("Cadre.Health").LogWarning(ex, "Readiness check could not reach the database");
            return Unavailable(new HealthResponse("unavailable", "The database cannot be reached."));
        }

        if (status.IsUsable)
        {
            return TypedResults.Ok(new HealthResponse("ok", null, status.CurrentVersion));
        }

        return Unavailable(new HealthResponse("unavailable", status.CurrentVersion < status.LatestVersion
            ? $"The schema is at version {status.CurrentVersion}; this build needs {status.LatestVersion}."
            : $"The schema is at version {status.CurrentVersion}, which needs a build that knows version {status.OldestCompatibleVersion} or newer; this build knows up to {status.LatestVersion}.",
            status.CurrentVersion));
    }

    private static JsonHttpResult<HealthResponse> Unavailable(HealthResponse response) =>
        TypedResults.Json(response, statusCode: StatusCodes.Status503ServiceUnavailable);
}
