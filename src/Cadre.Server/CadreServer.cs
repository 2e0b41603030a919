using System.Text.Json;
using System.Text.Json.Serialization;
using Cadre.Common;
using Cadre.Nodes;
using Cadre.Server.Analytics;
using Cadre.Server.Audit;
using Cadre.Server.Auth;
using Cadre.Server.Files;
using Cadre.Server.Health;
using Cadre.Server.Hosting;
using Cadre.Server.Http;
using Cadre.Server.Invitations;
using Cadre.Server.Llm;
using Cadre.Server.Members;
using Cadre.Server.Nodes;
using Cadre.Server.Observability;
using Cadre.Server.OpenApi;
using Cadre.Server.Personas;
using Cadre.Server.Runs;
using Cadre.Server.Secrets;
using Cadre.Server.ServiceAccounts;
using Cadre.Server.Teams;
using Cadre.Server.Triggers;
using Cadre.Server.Users;
using Cadre.Server.WebUi;
using Cadre.Server.Workflows;
using Cadre.Server.Workspaces;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Cadre.Server;

/// <summary>The three calls <c>Program.cs</c> makes: register, configure the pipeline, map the API.</summary>
internal static class CadreServer
{
    public const string DefaultUrl = "http://localhost:5080";

    public static WebApplicationBuilder AddCadreServer(this WebApplicationBuilder builder)
    {
        builder.Configuration.AddCadreEnvironmentVariables();
        // The default address applies only when nothing else names one (--urls, ASPNETCORE_URLS,
        // ASPNETCORE_HTTP_PORTS as container images set it, or Kestrel endpoints in settings).
        var configuration = builder.Configuration;
        if (string.IsNullOrEmpty(configuration[WebHostDefaults.ServerUrlsKey]) &&
            string.IsNullOrEmpty(configuration[WebHostDefaults.HttpPortsKey]) &&
            string.IsNullOrEmpty(configuration[WebHostDefaults.HttpsPortsKey]) &&
            !configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var services = builder.Services;
        services.AddCadreCore();

        services.AddOptions<HttpOptions>().BindConfiguration(HttpOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<HttpOptions>>((kestrel, http) =>
            kestrel.Limits.MaxRequestBodySize = http.Value.MaxRequestBodyBytes);
        services.AddOptions<ForwardedHeadersOptions>().Configure(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            // Trusting is an explicit operator decision (TrustForwardedHeaders); then any proxy address is accepted.
            options.KnownIPNetworks.Clear();
            options.KnownProxies.Clear();
        });
        services.ConfigureHttpJsonOptions(options =>
        {
            var json = options.SerializerOptions;
            json.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            json.NumberHandling = JsonNumberHandling.Strict;
            // A body naming a member twice is ambiguous: refused as malformed, in typed members and free JSON alike.
            json.AllowDuplicateProperties = false;
            json.Converters.Add(new StrictJsonNodeConverterFactory());
            json.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        });
        // Binding failures throw, so the exception handler answers them as problems like every other error.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.AddProblemDetails(options => options.CustomizeProblemDetails = ProblemDefaults.Apply);
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        services.AddExceptionHandler<StorageUnavailableExceptionHandler>();

        services.AddOptions<PublicUrlOptions>().BindConfiguration(PublicUrlOptions.SectionName)
            .Validate(o => string.IsNullOrEmpty(o.PublicUrl) || Uri.TryCreate(o.PublicUrl, UriKind.Absolute, out _),
                "Cadre:PublicUrl (CADRE_PUBLIC_URL) must be an absolute URL such as https://cadre.example.com.")
            .ValidateOnStart();
        services.AddCadreDataProtection();
        services.AddCadreAuthentication();
        services.AddAntiforgery(options =>
        {
            options.HeaderName = CsrfProtectionMiddleware.HeaderName;
            options.Cookie.Name = CsrfProtectionMiddleware.CookieName;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddAuthorization();
        services.AddScoped<WorkspaceAccess>();
        services.AddScoped<RequestAudit>();
        services.AddSingleton<UploadUrls>();
        services.AddSingleton<SharedEventReads>();
        services.AddCadreRateLimiting();
        services.AddCadreOpenApi();
        services.AddHostedService<StartupBanner>();
        builder.AddCadreObservability();
        return builder;
    }

    public static WebApplication UseCadreHttp(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<HttpOptions>>().Value.TrustForwardedHeaders)
        {
            app.UseForwardedHeaders();
        }

        app.UseExceptionHandler();
        app.UseStatusCodePages();
        if (!app.Services.GetRequiredService<ThisNode>().ServesApi)
        {
            app.UseMiddleware<WorkerNodeGate>();
        }

        app.UseRouting();
        // The UI's files and pages, for requests no endpoint took (docs/web.md).
        app.UseCadreWebUi();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseMiddleware<CsrfProtectionMiddleware>();
        app.UseMiddleware<IdempotencyMiddleware>();
        return app;
    }

    public static WebApplication MapCadreApi(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnyone().DisableRateLimiting();
        app.MapHealth();
        app.MapMetrics();
        // Everything else goes through the audit log's filter, which records each change (docs/audit.md).
        var api = app.MapGroup("").WithAuditLog();
        api.MapAuth();
        api.MapMe();
        api.MapUsers();
        api.MapWorkspaces();
        api.MapMembers();
        api.MapInvitations();
        api.MapTeams();
        api.MapServiceAccounts();
        api.MapPersonas();
        api.MapWorkflows();
        api.MapWorkflowRegistries();
        api.MapSchedules();
        api.MapAnalytics();
        api.MapRuns();
        api.MapProviders();
        api.MapPersonaMemory();
        api.MapGuardrails();
        api.MapSkills();
        api.MapSkillInstalls();
        api.MapApprovals();
        api.MapEvents();
        api.MapHooks();
        api.MapWebhookSubscriptions();
        api.MapFiles();
        api.MapUploads();
        api.MapApiKeys();
        api.MapSecrets();
        api.MapNodes();
        api.MapAudit();
        return app;
    }
}
