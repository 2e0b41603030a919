using Cadre.Nodes;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Nodes;

/// <summary>
/// On a <c>worker</c> node, answers every request but the health probes and the metrics with 421 Misdirected
/// Request: the request is fine, it reached a server that does not answer it. A 404 would tell the
/// client the resource does not exist, and a 503 that this node is failing and worth retrying; both
/// are false, and either would send a client or a load balancer the wrong way.
/// </summary>
internal sealed class WorkerNodeGate(RequestDelegate next, IProblemDetailsService problems)
{
    private static readonly PathString[] Served = ["/healthz", "/readyz", Observability.MetricsEndpoints.Path];

    public async Task InvokeAsync(HttpContext context)
    {
        if (Served.Any(path => context.Request.Path.Equals(path, StringComparison.OrdinalIgnoreCase)))
        {
            await next(context);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status421MisdirectedRequest;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status421MisdirectedRequest,
                Title = "This node does not serve the API",
                Detail = "This Cadre node has the role 'worker' (Cadre:Node:Role): it runs workflows and answers only /healthz, /readyz and /metrics. "
                    + "Send API requests to a node with the role 'api' or 'all'.",
            },
        });
    }
}
