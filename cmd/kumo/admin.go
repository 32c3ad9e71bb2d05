package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"kumo/internal/cloud"
	"kumo/internal/identity"
)

func adminCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Operator tasks (bootstrap, key rotation, migrations, object-store rings)",
	}
	cmd.AddCommand(bootstrapCmd(), fernetRotateCmd(), dbMigrateCmd(), ringCmd())
	return cmd
}

func bootstrapCmd() *cobra.Command {
	var cf commonFlags
	var password string
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Create or repair the admin user, projects, roles and region (as keystone-manage bootstrap)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cf.load(cmd)
			if err != nil {
				return err
			}
			if password == "" {
				return fmt.Errorf("--admin-password is required")
			}
			d, svc, err := cloud.OpenIdentity(context.Background(), cfg, newLogger("warn"))
			if err != nil {
				return err
			}
			defer d.Close()
			if err := svc.Bootstrap(context.Background(), identity.BootstrapOptions{AdminPassword: password}); err != nil {
				return err
			}
			// kumo up applies the stored password at every start: store
			// this one, or the next start would undo the change.
			cfg.AdminPassword = password
			if _, err := cloud.AdminPassword(cfg); err != nil {
				return err
			}
			fmt.Println("bootstrap done")
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&password, "admin-password", "", "password of the admin user (required)")
	return cmd
}

func fernetRotateCmd() *cobra.Command {
	var cf commonFlags
	var maxActive int
	cmd := &cobra.Command{
		Use:   "fernet-rotate",
		Short: "Rotate the fernet token keys (as keystone-manage fernet_rotate)",
		Long: `Promote the staged key to primary, stage a new key and drop the oldest
keys beyond --max-active-keys. Tokens signed with a dropped key stop
validating. A running kumo picks the new keys up within a second.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cf.load(cmd)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("max-active-keys") && cfg.Identity.MaxActiveKeys > 0 {
				maxActive = cfg.Identity.MaxActiveKeys
			}
			if err := identity.RotateKeys(cfg.DataDir, maxActive); err != nil {
				return err
			}
			fmt.Println("fernet keys rotated")
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().IntVar(&maxActive, "max-active-keys", 3, "keys kept after rotation (staged + primary + secondaries); default: identity.max_active_keys of the config, else 3")
	return cmd
}

func dbMigrateCmd() *cobra.Command {
	var cf commonFlags
	cmd := &cobra.Command{
		Use:   "db-migrate",
		Short: "Apply pending database migrations (kumo up does this too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cf.load(cmd)
			if err != nil {
				return err
			}
			applied, err := cloud.Migrate(context.Background(), cfg)
			for _, name := range applied {
				fmt.Println("applied", name)
			}
			if err != nil {
				return err
			}
			fmt.Println("database is up to date")
			return nil
		},
	}
	cf.register(cmd)
	return cmd
}
