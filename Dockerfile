# Cadre in a container: the embedded SQLite database lives in the /data volume.
# docker build -t cadre . && docker run -p 5080:5080 -v cadre-data:/data cadre
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Cadre.Server -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
RUN mkdir /data && chown app /data
ENV ASPNETCORE_URLS=http://0.0.0.0:5080 \
    CADRE_DATA_DIR=/data
VOLUME /data
EXPOSE 5080
USER app
ENTRYPOINT ["dotnet", "Cadre.Server.dll"]
