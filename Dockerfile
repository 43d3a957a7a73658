# KeyBrake: multi-stage build, Release publish, non-root, read-only root filesystem (state lives on the /data volume).
#   docker build -t keybrake .
#   docker run --read-only --tmpfs /tmp -v keybrake-data:/data -p 8080:8080 -p 127.0.0.1:8081:8081 \
#     -e KeyBrake__Admin__BootstrapToken=... -e KeyBrake__Secrets__Local__stripe-api-key=sk_... keybrake

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props BannedSymbols.txt appsettings.json ./
COPY src/KeyBrake/KeyBrake.csproj src/KeyBrake/
COPY src/KeyBrake.Audit/KeyBrake.Audit.csproj src/KeyBrake.Audit/
COPY src/KeyBrake.Core/KeyBrake.Core.csproj src/KeyBrake.Core/
COPY src/KeyBrake.Storage.Sqlite/KeyBrake.Storage.Sqlite.csproj src/KeyBrake.Storage.Sqlite/
COPY src/KeyBrake.Storage.Postgres/KeyBrake.Storage.Postgres.csproj src/KeyBrake.Storage.Postgres/
RUN dotnet restore src/KeyBrake/KeyBrake.csproj
COPY src/KeyBrake/ src/KeyBrake/
COPY src/KeyBrake.Audit/ src/KeyBrake.Audit/
COPY src/KeyBrake.Core/ src/KeyBrake.Core/
COPY src/KeyBrake.Storage.Sqlite/ src/KeyBrake.Storage.Sqlite/
COPY src/KeyBrake.Storage.Postgres/ src/KeyBrake.Storage.Postgres/
RUN dotnet publish src/KeyBrake/KeyBrake.csproj -c Release --no-restore -o /app /p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# Both listeners on all interfaces inside the container; publish the admin port only where operators reach it
# (docker: -p 127.0.0.1:8081:8081; Kubernetes: no Service, a NetworkPolicy). The admin listener is plain http here,
# which KeyBrake refuses off loopback unless told the network in front of it is closed.
ENV Kestrel__Endpoints__Proxy__Url=http://0.0.0.0:8080 \
    Kestrel__Endpoints__Admin__Url=http://0.0.0.0:8081 \
    KeyBrake__Admin__AllowPlaintextNonLoopback=true \
    KeyBrake__DataDirectory=/data \
    DOTNET_gcServer=0
# KeyBrake:DataDirectory (SPEC §2): the database (/data/keybrake.db), admin-token, the Local signing key,
# checkpoints.ndjson and the dashboard key ring; owner-only (0700, files 0600). A new named volume copies this mode.
RUN mkdir -p /data && chown "$APP_UID" /data && chmod 700 /data
VOLUME ["/data"]
# The aspnet image's non-root user (uid 1654).
USER $APP_UID
EXPOSE 8080 8081
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["dotnet", "/app/KeyBrake.dll", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["dotnet", "/app/KeyBrake.dll"]
