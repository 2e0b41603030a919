using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Cadre.Storage;
using Microsoft.AspNetCore.Http.Metadata;

namespace Cadre.Server.Tests.Http;

/// <summary>The whole API keeps its promises: every endpoint declares who may call it and is described, with its errors, in the OpenAPI document.</summary>
public sealed class ApiSurfaceTests
{
    [Fact]
    public async Task EveryEndpoint_DeclaresExactlyOneAccessRule()
    {
        var app = await SharedApps.Get(DatabaseKind.Sqlite);

        var routes = EndpointCatalog.All(app);

        routes.ShouldAllBe(route => route.Endpoint.Metadata.GetOrderedMetadata<AccessMetadata>().Count == 1, "every endpoint needs RequireWorkspaceRole, RequireInstanceAdmin, RequireAnyKey or AllowAnyone");
        // The only endpoints open to anyone under /api are those a person uses before being signed in (webhooks, at /hooks, carry their token).
        routes.Where(r => r.Pattern.StartsWith("/api/", StringComparison.Ordinal) && r.Endpoint.Metadata.GetMetadata<AccessMetadata>()!.Level == AccessLevel.Public)
            .Select(r => r.ToString())
            .ShouldBe(
            [
                "POST /api/v1/auth/login", "GET /api/v1/auth/csrf", "POST /api/v1/auth/reset-password", "POST /api/v1/auth/forgot-password",
                "GET /api/v1/setup", "POST /api/v1/setup", "POST /api/v1/invitations/preview", "POST /api/v1/invitations/accept",
            ],
            ignoreOrder: true);
    }

    [Fact]
    public async Task OpenApi_DescribesEveryEndpointWithItsErrors()
    {
        var app = await SharedApps.Get(DatabaseKind.Sqlite);
        using var client = app.Client();

        var response = await client.GetAsync("/openapi/v1.json");

        await response.ShouldBeAsync(HttpStatusCode.OK);
        var document = await response.ReadObjectAsync();
        ((string)document["openapi"]!).ShouldStartWith("3.");
        var schemes = document["components"]!["securitySchemes"]!.AsObject();
        schemes.ContainsKey("bearer").ShouldBeTrue();
        schemes.ContainsKey("apiKey").ShouldBeTrue();
        var paths = document["paths"]!.AsObject();
        foreach (var route in EndpointCatalog.All(app).Where(r => !r.Pattern.StartsWith("/openapi", StringComparison.Ordinal)))
        {
            // Constraints and catch-all markers ({id:int}, {**model}) are routing detail; the document names the parameter.
            var documentPath = System.Text.RegularExpressions.Regex.Replace(route.Pattern == "/" ? "/" : route.Pattern.TrimEnd('/'), @"\{\**(\w+)(:\w+)?\}", "{$1}");
            var operation = paths[documentPath]?[route.Method.ToLowerInvariant()]?.AsObject();
            operation.ShouldNotBeNull($"{route} is missing from the OpenAPI document");
            ((string?)operation["operationId"]).ShouldNotBeNullOrEmpty(route.ToString());
            ((string?)operation["summary"]).ShouldNotBeNullOrEmpty(route.ToString());
            var responses = operation["responses"]!.AsObject().Select(r => r.Key).ToList();
            responses.ShouldContain(r => r.StartsWith('2'), route.ToString());
            var parameters = operation["parameters"]?.AsArray().Select(p => (string)p!["name"]!).ToList() ?? [];
            foreach (var routeValue in route.Endpoint.RoutePattern.Parameters.Select(p => p.Name))
            {
                parameters.ShouldContain(routeValue, route.ToString());
            }

            var access = route.Endpoint.Metadata.GetMetadata<AccessMetadata>()!;
            if (access.Level != AccessLevel.Public)
            {
                responses.ShouldContain("401", route.ToString());
                responses.ShouldContain("429", route.ToString());
                operation["security"]!.AsArray().Count.ShouldBeGreaterThan(0, route.ToString());
            }

            if (access.Level is AccessLevel.WorkspaceRole or AccessLevel.InstanceAdmin)
            {
                responses.ShouldContain("403", route.ToString());
            }

            if (access.Level == AccessLevel.WorkspaceRole)
            {
                responses.ShouldContain("404", route.ToString());
            }

            if (route.Endpoint.Metadata.GetMetadata<IAcceptsMetadata>() is not null && route.HasBody)
            {
                foreach (var status in new[] { "400", "413", "415", "422" })
                {
                    responses.ShouldContain(status, route.ToString());
                }

                operation["requestBody"].ShouldNotBeNull(route.ToString());
            }

            if (route.Endpoint.Metadata.GetMetadata<IdempotentMetadata>() is not null)
            {
                parameters.ShouldContain("Idempotency-Key", route.ToString());
            }

            foreach (var problem in responses.Where(r => r[0] is '4'))
            {
                operation["responses"]![problem]!["content"]!.AsObject().ContainsKey("application/problem+json").ShouldBeTrue($"{route} {problem}");
            }
        }
    }

    [Fact]
    public async Task OpenApi_DescribesRequestAndResponseSchemas()
    {
        var app = await SharedApps.Get(DatabaseKind.Sqlite);
        using var client = app.Client();

        var document = await (await client.GetAsync("/openapi/v1.json")).ReadObjectAsync();

        var schemas = document["components"]!["schemas"]!.AsObject();
        var workspace = schemas["WorkspaceResponse"]!["properties"]!.AsObject().Select(p => p.Key).ToList();
        workspace.ShouldBe(["id", "name", "displayName", "settings", "createdBy", "updatedBy", "version", "createdAt", "updatedAt"], ignoreOrder: true);
        var create = schemas["CreateWorkspaceRequest"]!.AsObject();
        create["required"]!.AsArray().Select(r => (string)r!).ShouldBe(["name"]);
        ((bool)create["additionalProperties"]!).ShouldBeFalse();
        schemas["PagedResponseOfWorkspaceResponse"]!["properties"]!.AsObject().Select(p => p.Key)
            .ShouldBe(["count", "next", "previous", "results"], ignoreOrder: true);
        schemas["CreatedApiKeyResponse"]!["properties"]!.AsObject().ContainsKey("key").ShouldBeTrue();
    }
}
