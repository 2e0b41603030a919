using System.Collections;
using Cadre.Server.Hosting;
using Microsoft.Extensions.Configuration;

namespace Cadre.Server.Tests.Hosting;

public sealed class EnvironmentVariableTests
{
    [Theory]
    [InlineData("CADRE_DATABASE", "Cadre:Database")]
    [InlineData("CADRE_DATA_DIR", "Cadre:DataDir")]
    [InlineData("CADRE_ADMIN_KEY", "Cadre:AdminKey")]
    [InlineData("CADRE_PUBLIC_URL", "Cadre:PublicUrl")]
    [InlineData("CADRE_ADMIN_EMAIL", "Cadre:Auth:AdminEmail")]
    [InlineData("CADRE_ADMIN_PASSWORD", "Cadre:Auth:AdminPassword")]
    [InlineData("CADRE_SMTP_HOST", "Cadre:Smtp:Host")]
    [InlineData("CADRE_SMTP__HOST", "Cadre:Smtp:Host")]
    [InlineData("CADRE_HTTP_MAX_REQUEST_BODY_BYTES", "Cadre:Http:MaxRequestBodyBytes")]
    [InlineData("CADRE_HTTP__MAX_REQUEST_BODY_BYTES", "Cadre:Http:MaxRequestBodyBytes")]
    [InlineData("CADRE_RATE_LIMIT_BURST", "Cadre:RateLimit:Burst")]
    [InlineData("CADRE_RATE_LIMIT__PERMITS_PER_SECOND", "Cadre:RateLimit:PermitsPerSecond")]
    [InlineData("CADRE_AUTH_LOCKOUT_THRESHOLD", "Cadre:Auth:LockoutThreshold")]
    [InlineData("CADRE_IDEMPOTENCY_RETENTION", "Cadre:Idempotency:Retention")]
    [InlineData("CADRE_OUTBOUND_ALLOW_PRIVATE_NETWORKS", "Cadre:Outbound:AllowPrivateNetworks")]
    [InlineData("CADRE_OUTBOUND_ALLOWED_HOSTS__0", "Cadre:Outbound:AllowedHosts:0")]
    [InlineData("CADRE_ENGINE_LEASE_DURATION", "Cadre:Engine:LeaseDuration")]
    [InlineData("CADRE_ENGINE_MAX_RUNS_PER_WORKSPACE", "Cadre:Engine:MaxRunsPerWorkspace")]
    [InlineData("CADRE_HTTP_STREAM_STALL_TIMEOUT", "Cadre:Http:StreamStallTimeout")]
    [InlineData("CADRE_SCHEDULES_MISFIRE_THRESHOLD", "Cadre:Schedules:MisfireThreshold")]
    [InlineData("CADRE_RETENTION_RUNS", "Cadre:Retention:Runs")]
    [InlineData("CADRE_RETENTION_BATCH_SIZE", "Cadre:Retention:BatchSize")]
    [InlineData("CADRE_ENCRYPTION_KEY", "Cadre:Encryption:Key")]
    [InlineData("CADRE_ENCRYPTION_PREVIOUS_KEYS", "Cadre:Encryption:PreviousKeys")]
    [InlineData("CADRE_ENCRYPTION_KEY_FILE", "Cadre:Encryption:KeyFile")]
    [InlineData("CADRE_FILES_MAX_BYTES", "Cadre:Files:MaxBytes")]
    [InlineData("CADRE_FILES_UPLOAD_URL_LIFETIME", "Cadre:Files:UploadUrlLifetime")]
    [InlineData("CADRE_NODE_ROLE", "Cadre:Node:Role")]
    [InlineData("CADRE_NODE_HEARTBEAT_INTERVAL", "Cadre:Node:HeartbeatInterval")]
    [InlineData("CADRE_NODE_DEAD_AFTER", "Cadre:Node:DeadAfter")]
    public void Variable_LandsOnItsSetting(string variable, string key)
    {
        var configuration = new ConfigurationBuilder()
            .Add(new CadreEnvironmentVariablesSource(new Hashtable { [variable] = "value", ["UNRELATED"] = "x" }))
            .Build();

        configuration[key].ShouldBe("value");
        configuration.AsEnumerable().Count(pair => pair.Value is not null).ShouldBe(1);
    }
}
