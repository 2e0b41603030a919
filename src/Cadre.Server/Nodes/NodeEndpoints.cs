using Cadre.Nodes;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Nodes;

/// <summary>The nodes of the installation: what each one is, and whether it is alive.</summary>
internal static class NodeEndpoints
{
    public static IEndpointRouteBuilder MapNodes(this IEndpointRouteBuilder app)
    {
        var nodes = app.MapGroup("/api/v1/admin/nodes").WithTags("Nodes");
        nodes.MapGet("/", List)
            .WithName("ListNodes").WithSummary("The Cadre nodes on this database, newest first, with their role, version, heartbeat and status")
            .WithDescription("`status` keeps `live`, `dead` (no heartbeat for Cadre:Node:DeadAfter; its tasks are returned to the queue) or `stopped` nodes. "
                + "Rows of nodes stopped or dead for over a day are deleted.")
            .RequireInstanceAdmin().WithQueryErrors();
        return app;
    }

    private static Task<Results<Ok<PagedResponse<NodeResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery page, [FromQuery(Name = "status")] string? status, NodeService nodes, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => nodes.ListAsync(status, p, cancellationToken));
}
