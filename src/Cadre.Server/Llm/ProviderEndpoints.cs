using Cadre.Auth;
using Cadre.Common;
using Cadre.Llm;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Cadre.Server.Llm;

/// <summary>Model providers (keys write-only) and the price table that turns their usage into cost.</summary>
internal static class ProviderEndpoints
{
    public static IEndpointRouteBuilder MapProviders(this IEndpointRouteBuilder app)
    {
        var workspace = app.MapGroup("/api/v1/workspaces/{workspace}").WithTags("Models");
        var providers = workspace.MapGroup("/providers");
        providers.MapGet("/", List)
            .WithName("ListProviders").WithSummary("The workspace's model providers, and the instance's it does not override, by name")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        providers.MapPost("/", Create)
            .WithName("CreateProvider").WithSummary("Connect a model provider: OpenAI-compatible, Anthropic or the mock")
            .WithDescription("The API key is stored encrypted and never returned; `apiKeyHint` shows its last four characters.")
            .RequireWorkspaceRole(WorkspaceRole.Admin).WithIdempotency().WithJsonBodyErrors().ProducesProblem(StatusCodes.Status409Conflict);
        providers.MapGet("/{provider}", Get)
            .WithName("GetProvider").WithSummary("Get a provider by name (or a workspace one by ID)")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        providers.MapPatch("/{provider}", Update)
            .WithName("UpdateProvider").WithSummary("Change a workspace provider's base URL, key, default model, timeout or retries")
            .WithDescription("The name and kind stay. An empty `apiKey` removes the key. Instance providers cannot be changed here (409). Honours If-Match.")
            .RequireWorkspaceRole(WorkspaceRole.Admin).WithJsonBodyErrors()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        providers.MapPost("/{provider}/test", Test)
            .WithName("TestProvider").WithSummary("Ask the provider for a one-word answer: whether its address, key and model work, and how fast")
            .WithDescription("200 with `ok: false` and the provider's error when the call fails; 404 for an unknown provider; 422 without a model.")
            .RequireWorkspaceRole(WorkspaceRole.Editor).WithJsonBodyErrors();
        providers.MapDelete("/{provider}", Delete)
            .WithName("DeleteProvider").WithSummary("Delete a workspace provider and its key")
            .RequireWorkspaceRole(WorkspaceRole.Admin).ProducesProblem(StatusCodes.Status409Conflict);

        var prices = workspace.MapGroup("/prices");
        prices.MapGet("/", ListPrices)
            .WithName("ListPrices").WithSummary("What each model costs here, in US dollars per million tokens: the built-in list prices with the workspace's own over them")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        prices.MapPut("/{**model}", SetPrice)
            .WithName("SetPrice").WithSummary("Set the workspace's own price for a model (names may contain slashes, such as openai/gpt-4o)")
            .RequireWorkspaceRole(WorkspaceRole.Admin).WithJsonBodyErrors().ProducesProblem(StatusCodes.Status409Conflict);
        prices.MapDelete("/{**model}", DeletePrice)
            .WithName("DeletePrice").WithSummary("Remove the workspace's own price for a model; the built-in price applies again")
            .RequireWorkspaceRole(WorkspaceRole.Admin);
        return app;
    }

    private static Task<Results<Ok<PagedResponse<ProviderResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery page, WorkspaceAccess access, ProviderService providers, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => providers.ListAsync(access.Workspace.Id, p, cancellationToken));

    private static async Task<Results<Created<ProviderResponse>, ProblemHttpResult>> Create(
        ProviderRequest request, WorkspaceAccess access, ProviderService providers, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = await providers.CreateAsync(access.Workspace.Id, request, access.Caller, cancellationToken);
        return ETags.Created(result, c => c.Version, c => $"/api/v1/workspaces/{access.Workspace.Name}/providers/{c.Name}", response);
    }

    private static async Task<Results<Ok<ProviderResponse>, ProblemHttpResult>> Get(
        string provider, WorkspaceAccess access, ProviderService providers, HttpResponse response, CancellationToken cancellationToken)
    {
        return ETags.Found(await providers.GetAsync(access.Workspace.Id, provider, cancellationToken), f => f.Version, $"Provider '{provider}' not found.", response);
    }

    private static async Task<Results<Ok<ProviderResponse>, ProblemHttpResult>> Update(
        string provider, ProviderRequest request, WorkspaceAccess access, ProviderService providers, HttpContext http, CancellationToken cancellationToken)
    {
        var result = await providers.UpdateAsync(access.Workspace.Id, provider, request, access.Caller, ETags.IfMatch(http.Request), cancellationToken);
        return ETags.Ok(result, u => u.Version, http.Response);
    }

    private static async Task<Results<Ok<ProviderTestResponse>, ProblemHttpResult>> Test(
        string provider, ProviderTestRequest? request, WorkspaceAccess access, ProviderService providers, CancellationToken cancellationToken)
    {
        var result = await providers.TestAsync(access.Workspace.Id, provider, request ?? new ProviderTestRequest(), cancellationToken);
        return result.Value is { } tested ? TypedResults.Ok(tested) : Problems.From(result.Error!);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string provider, WorkspaceAccess access, ProviderService providers, CancellationToken cancellationToken)
    {
        var result = await providers.DeleteAsync(access.Workspace.Id, provider, cancellationToken);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }

    private static async Task<Ok<IReadOnlyList<ModelPrice>>> ListPrices(WorkspaceAccess access, PriceTable prices, CancellationToken cancellationToken) =>
        TypedResults.Ok(await prices.ListAsync(access.Workspace.Id, cancellationToken));

    private static async Task<Results<Ok<ModelPrice>, ProblemHttpResult>> SetPrice(
        string model, PriceRequest request, WorkspaceAccess access, ProviderService providers, CancellationToken cancellationToken)
    {
        var result = await providers.SetPriceAsync(access.Workspace.Id, model, request, access.Caller, cancellationToken);
        return result.Value is { } price ? TypedResults.Ok(price) : Problems.From(result.Error!);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeletePrice(
        string model, WorkspaceAccess access, ProviderService providers, CancellationToken cancellationToken)
    {
        var result = await providers.DeletePriceAsync(access.Workspace.Id, model, cancellationToken);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }
}
