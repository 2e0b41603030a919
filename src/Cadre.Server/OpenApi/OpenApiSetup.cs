using Cadre.Server.Auth;
using Cadre.Server.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Cadre.Server.OpenApi;

/// <summary>
/// The OpenAPI 3.1 document at <c>/openapi/v1.json</c>: every endpoint with its schemas, its
/// error responses, who may call it and the headers it honours.
/// </summary>
internal static class OpenApiSetup
{
    public const string BearerScheme = "bearer";
    public const string ApiKeyScheme = "apiKey";
    public const string SessionScheme = "session";

    public static IServiceCollection AddCadreOpenApi(this IServiceCollection services) =>
        services.AddOpenApi("v1", options =>
        {
            options.AddDocumentTransformer(DescribeDocument);
            options.AddOperationTransformer(DescribeOperation);
        });

    private static Task DescribeDocument(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Cadre API",
            Version = "v1",
            Description = "Self-hosted server for AI personas and the durable workflows that put them to work. " +
                "Errors are RFC 9457 problems; lists are cursor-paginated; see docs/api.md.",
            License = new OpenApiLicense { Name = "MIT", Identifier = "MIT" },
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An API key sent as 'Authorization: Bearer <key>'.",
        };
        document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ApiKeyAuthenticationHandler.ApiKeyHeader,
            Description = "The same API key sent as 'X-Api-Key: <key>'.",
        };
        document.Components.SecuritySchemes[SessionScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Cookie,
            Name = SessionAuthentication.CookieName,
            Description = "The browser session cookie set by POST /api/v1/auth/login. Writes made with it must send the CSRF token " +
                "(from the login response or GET /api/v1/auth/csrf) as 'X-CSRF-Token'.",
        };
        return Task.CompletedTask;
    }

    private static Task DescribeOperation(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        AddUnboundRouteParameters(operation, context.Description.RelativePath ?? "");
        if (metadata.OfType<AccessMetadata>().LastOrDefault() is { } access)
        {
            operation.Description = string.IsNullOrEmpty(operation.Description)
                ? $"Access: {access.Describe()}"
                : $"{operation.Description}\n\nAccess: {access.Describe()}";
            if (access.Level != AccessLevel.Public)
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] });
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] });
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SessionScheme, context.Document)] = [] });
            }
        }

        if (metadata.OfType<IdempotentMetadata>().Any())
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = IdempotencyMiddleware.HeaderName,
                In = ParameterLocation.Header,
                Description = "Makes the request safe to retry: the same key and body replay the first successful response " +
                    "(with 'Idempotent-Replayed: true'); the same key with another body answers 409. Keys are kept 24 hours.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = IdempotencyMiddleware.MaxKeyLength },
            });
        }

        var responses = context.Description.SupportedResponseTypes;
        if (responses.Any(response => response.StatusCode == StatusCodes.Status412PreconditionFailed))
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "If-Match",
                In = ParameterLocation.Header,
                Description = "Apply the change only if the resource still has this ETag (its version, e.g. \"3\"); otherwise 412.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Route values read by filters rather than handler parameters (<c>{workspace}</c>, resolved by
    /// the access check) are invisible to the API explorer; the document still has to name them.
    /// </summary>
    private static void AddUnboundRouteParameters(OpenApiOperation operation, string relativePath)
    {
        foreach (var segment in relativePath.Split('/').Where(s => s.StartsWith('{') && s.EndsWith('}')))
        {
            var name = segment.Trim('{', '}').Split(':')[0];
            if (operation.Parameters?.Any(p => p.Name == name && p.In == ParameterLocation.Path) == true)
            {
                continue;
            }

            operation.Parameters ??= [];
            operation.Parameters.Insert(0, new OpenApiParameter
            {
                Name = name,
                In = ParameterLocation.Path,
                Required = true,
                Description = name == "workspace" ? "The workspace's unique name (slug)." : null,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }
    }
}
