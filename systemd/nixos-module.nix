# NixOS module for pipelined: the settings of pipelined.service, as a
# systemd.services entry.  In configuration.nix:
#
#   imports = [ ./pipelined/systemd/nixos-module.nix ];
#   services.pipelined = {
#     enable = true;
#     package = pkgs.callPackage ./pipelined/default.nix { };
#     # secrets stay root-owned files; systemd hands copies to the daemon
#     credentials.deploy_key = "/etc/pipelined/deploy_key";
#   };
#
# tests/golden/systemd_unit.sh checks that every [Service] setting of
# pipelined.service also appears here.
{ config, lib, pkgs, ... }:

let
  cfg = config.services.pipelined;
in
{
  options.services.pipelined = {
    enable = lib.mkEnableOption "the pipelined release promotion daemon";

    package = lib.mkOption {
      type = lib.types.package;
      description = "The pipelined package (CMake install: sbin/pipelined).";
    };

    configFile = lib.mkOption {
      type = lib.types.path;
      default = "/etc/pipelined/pipelines.conf";
      description = "pipelines.conf(5) to run with.";
    };

    credentials = lib.mkOption {
      type = lib.types.attrsOf lib.types.str;
      default = {
        deploy_key = "/etc/pipelined/deploy_key";
        known_hosts = "/etc/pipelined/known_hosts";
      };
      description = ''
        Files passed with LoadCredential=; each appears read-only in
        $CREDENTIALS_DIRECTORY, where pipelined resolves a relative secret
        file of pipelines.conf (sshKey = deploy_key).  Add webhook-secret,
        ghcr-credentials, allowed_signers or dashboard-users when
        pipelines.conf names them.
      '';
    };
  };

  config = lib.mkIf cfg.enable {
    systemd.services.pipelined = {
      description = "pipelined release promotion daemon";
      documentation = [ "man:pipelined(8)" "man:pipelines.conf(5)" ];
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      # libgit2 looks for ~/.ssh under HOME
      environment.HOME = "/var/lib/pipelined";

      serviceConfig = {
        Type = "notify";
        NotifyAccess = "main";
        ExecStart = "${cfg.package}/sbin/pipelined -c ${cfg.configFile}";
        ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
        Restart = "on-failure";
        RestartSec = "5s";
        WatchdogSec = "30s";
        TimeoutStopSec = "30s";

        DynamicUser = true;
        StateDirectory = "pipelined";
        StateDirectoryMode = "0700";
        LoadCredential = lib.mapAttrsToList (name: path: "${name}:${path}") cfg.credentials;

        CapabilityBoundingSet = "";
        AmbientCapabilities = "";
        NoNewPrivileges = true;
        PrivateUsers = true;
        ProtectSystem = "strict";
        PrivateMounts = true;
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        DevicePolicy = "closed";
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ProtectClock = true;
        ProtectHostname = true;
        ProtectProc = "invisible";
        ProcSubset = "pid";
        RestrictAddressFamilies = [ "AF_UNIX" "AF_INET" "AF_INET6" ];
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        LockPersonality = true;
        MemoryDenyWriteExecute = true;
        RemoveIPC = true;
        KeyringMode = "private";
        SystemCallArchitectures = "native";
        SystemCallFilter = [ "@system-service" "~@privileged @resources" ];
        SystemCallErrorNumber = "EPERM";
        UMask = "0077";
      };
    };
  };
}
