"""Initial schema: every table of the first release.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_events',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('actor_entity', sa.String(length=16), nullable=True),
    sa.Column('roles', sa.String(length=100), nullable=True),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=True),
    sa.Column('object_ref', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('request_id', sa.String(length=36), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('prev_mac', sa.String(length=64), nullable=False),
    sa.Column('mac', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_events'))
    )
    op.create_index('ix_audit_events_action_ip_at', 'audit_events', ['action', 'ip', 'at'], unique=False)
    op.create_index('ix_audit_events_action_seq', 'audit_events', ['action', 'seq'], unique=False)
    op.create_index('ix_audit_events_actor_entity_seq', 'audit_events', ['actor_entity', 'seq'], unique=False)
    op.create_index('ix_audit_events_actor_seq', 'audit_events', ['actor', 'seq'], unique=False)
    op.create_index('ix_audit_events_at', 'audit_events', ['at'], unique=False)
    op.create_index('ix_audit_events_object_ref_seq', 'audit_events', ['object_ref', 'seq'], unique=False)
    op.create_index('ix_audit_events_outcome_seq', 'audit_events', ['outcome', 'seq'], unique=False)
    op.create_table('data_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('kek_id', sa.String(length=32), nullable=False),
    sa.Column('wrapped', sa.LargeBinary(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('destroyed_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_keys'))
    )
    op.create_index(op.f('ix_data_keys_kek_id'), 'data_keys', ['kek_id'], unique=False)
    op.create_index('uq_data_keys_system', 'data_keys', ['purpose'], unique=True, sqlite_where=sa.text("purpose = 'system'"), postgresql_where=sa.text("purpose = 'system'"))
    op.create_table('entities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entities')),
    sa.UniqueConstraint('code', name=op.f('uq_entities_code'))
    )
    op.create_table('exploitation_purposes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('label_es', sa.String(length=200), nullable=False),
    sa.Column('label_en', sa.String(length=200), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('legal_source', sa.String(length=200), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exploitation_purposes')),
    sa.UniqueConstraint('code', 'valid_from', name=op.f('uq_exploitation_purposes_code'))
    )
    op.create_index(op.f('ix_exploitation_purposes_code'), 'exploitation_purposes', ['code'], unique=False)
    op.create_table('policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=False),
    sa.Column('territory', sa.String(length=120), nullable=True),
    sa.Column('legal_act', sa.String(length=300), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policies')),
    sa.UniqueConstraint('code', name=op.f('uq_policies_code'))
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=2000), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('step_kinds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('section', sa.String(length=16), nullable=False),
    sa.Column('label_es', sa.String(length=200), nullable=False),
    sa.Column('label_en', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_step_kinds')),
    sa.UniqueConstraint('code', name=op.f('uq_step_kinds_code'))
    )
    op.create_table('case_counters',
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entities.id'], name=op.f('fk_case_counters_entity_id_entities')),
    sa.PrimaryKeyConstraint('entity_id', 'year', name=op.f('pk_case_counters'))
    )
    op.create_table('policy_objectives',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('weight', sa.Numeric(precision=12, scale=6), nullable=True),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], name=op.f('fk_policy_objectives_policy_id_policies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_objectives')),
    sa.UniqueConstraint('policy_id', 'code', name=op.f('uq_policy_objectives_policy_id'))
    )
    op.create_table('shelters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('city', sa.String(length=80), nullable=False),
    sa.Column('operator_entity_id', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['operator_entity_id'], ['entities.id'], name=op.f('fk_shelters_operator_entity_id_entities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shelters')),
    sa.UniqueConstraint('code', name=op.f('uq_shelters_code'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('password_changed_at', sa.DateTime(), nullable=True),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('totp_secret_enc', sa.LargeBinary(), nullable=True),
    sa.Column('totp_enrolled_at', sa.DateTime(), nullable=True),
    sa.Column('totp_last_counter', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entities.id'], name=op.f('fk_users_entity_id_entities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('uid', name=op.f('uq_users_uid')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_index(op.f('ix_users_entity_id'), 'users', ['entity_id'], unique=False)
    op.create_table('victims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('data_key_id', sa.Integer(), nullable=False),
    sa.Column('given_names_enc', sa.LargeBinary(), nullable=True),
    sa.Column('family_names_enc', sa.LargeBinary(), nullable=True),
    sa.Column('document_type_enc', sa.LargeBinary(), nullable=True),
    sa.Column('document_number_enc', sa.LargeBinary(), nullable=True),
    sa.Column('birth_date_enc', sa.LargeBinary(), nullable=True),
    sa.Column('phone_enc', sa.LargeBinary(), nullable=True),
    sa.Column('address_enc', sa.LargeBinary(), nullable=True),
    sa.Column('contact_person_enc', sa.LargeBinary(), nullable=True),
    sa.Column('narrative_enc', sa.LargeBinary(), nullable=True),
    sa.Column('document_bidx', sa.Integer(), nullable=True),
    sa.Column('name_bidx', sa.Integer(), nullable=True),
    sa.Column('phone_bidx', sa.Integer(), nullable=True),
    sa.Column('sex', sa.String(length=16), nullable=False),
    sa.Column('gender_identity', sa.String(length=16), nullable=False),
    sa.Column('age_group', sa.String(length=8), nullable=False),
    sa.Column('nationality', sa.String(length=2), nullable=False),
    sa.Column('ethnic_group', sa.String(length=16), nullable=False),
    sa.Column('disability', sa.String(length=8), nullable=False),
    sa.Column('lgbtiq', sa.String(length=8), nullable=False),
    sa.Column('migrant_status', sa.String(length=24), nullable=False),
    sa.Column('erased', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_keys.id'], name=op.f('fk_victims_data_key_id_data_keys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_victims')),
    sa.UniqueConstraint('data_key_id', name=op.f('uq_victims_data_key_id')),
    sa.UniqueConstraint('uid', name=op.f('uq_victims_uid'))
    )
    op.create_index(op.f('ix_victims_document_bidx'), 'victims', ['document_bidx'], unique=False)
    op.create_index(op.f('ix_victims_name_bidx'), 'victims', ['name_bidx'], unique=False)
    op.create_index(op.f('ix_victims_phone_bidx'), 'victims', ['phone_bidx'], unique=False)
    op.create_index('ix_victims_stats', 'victims', ['id', 'sex', 'gender_identity', 'age_group', 'nationality', 'ethnic_group'], unique=False)
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_index(op.f('ix_api_tokens_user_id'), 'api_tokens', ['user_id'], unique=False)
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('victim_id', sa.Integer(), nullable=False),
    sa.Column('owner_entity_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('assigned_to_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('identified_on', sa.Date(), nullable=False),
    sa.Column('identification_source', sa.String(length=24), nullable=False),
    sa.Column('intake_on', sa.Date(), nullable=True),
    sa.Column('immediate_closed_on', sa.Date(), nullable=True),
    sa.Column('linked_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('closure_reason', sa.String(length=32), nullable=True),
    sa.Column('trafficking_scope', sa.String(length=16), nullable=False),
    sa.Column('victim_status', sa.String(length=24), nullable=False),
    sa.Column('is_child', sa.Boolean(), nullable=False),
    sa.Column('child_referral_required', sa.Boolean(), nullable=False),
    sa.Column('declined_assistance', sa.Boolean(), nullable=False),
    sa.Column('declined_reasons_enc', sa.LargeBinary(), nullable=True),
    sa.Column('control_methods', sa.String(length=500), nullable=False),
    sa.Column('registration_key', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['users.id'], name=op.f('fk_cases_assigned_to_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_cases_created_by_id_users')),
    sa.ForeignKeyConstraint(['owner_entity_id'], ['entities.id'], name=op.f('fk_cases_owner_entity_id_entities')),
    sa.ForeignKeyConstraint(['victim_id'], ['victims.id'], name=op.f('fk_cases_victim_id_victims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('code', name=op.f('uq_cases_code')),
    sa.UniqueConstraint('registration_key', name=op.f('uq_cases_registration_key')),
    sa.UniqueConstraint('uid', name=op.f('uq_cases_uid'))
    )
    op.create_index(op.f('ix_cases_assigned_to_id'), 'cases', ['assigned_to_id'], unique=False)
    op.create_index('ix_cases_identified_on', 'cases', ['identified_on', 'owner_entity_id', 'trafficking_scope', 'status'], unique=False)
    op.create_index('ix_cases_linked_on', 'cases', ['linked_on', 'owner_entity_id', 'trafficking_scope', 'status', 'victim_id'], unique=False)
    op.create_index('ix_cases_owner_status', 'cases', ['owner_entity_id', 'status'], unique=False)
    op.create_index(op.f('ix_cases_victim_id'), 'cases', ['victim_id'], unique=False)
    op.create_table('due_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('immediate_days', sa.Integer(), nullable=False),
    sa.Column('immediate_extension_days', sa.Integer(), nullable=False),
    sa.Column('mediate_months', sa.Integer(), nullable=False),
    sa.Column('mediate_extension_months', sa.Integer(), nullable=False),
    sa.Column('max_extensions', sa.Integer(), nullable=False),
    sa.Column('legal_source', sa.String(length=300), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_due_rules_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_due_rules')),
    sa.UniqueConstraint('effective_from', name=op.f('uq_due_rules_effective_from'))
    )
    op.create_table('policy_products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('objective_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('indicator', sa.Text(), nullable=False),
    sa.Column('formula', sa.String(length=40), nullable=False),
    sa.Column('formula_text', sa.Text(), nullable=True),
    sa.Column('baseline', sa.String(length=40), nullable=True),
    sa.Column('baseline_year', sa.Integer(), nullable=True),
    sa.Column('baseline_source', sa.String(length=200), nullable=True),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('accumulation', sa.String(length=10), nullable=False),
    sa.Column('periodicity', sa.String(length=12), nullable=False),
    sa.Column('periods_count', sa.Integer(), nullable=False),
    sa.Column('first_year', sa.Integer(), nullable=False),
    sa.Column('final_target', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('weight', sa.Numeric(precision=12, scale=6), nullable=False),
    sa.Column('sector', sa.String(length=200), nullable=True),
    sa.Column('responsible_entity_id', sa.Integer(), nullable=True),
    sa.Column('co_responsible', sa.String(length=300), nullable=True),
    sa.Column('target_population', sa.String(length=200), nullable=True),
    sa.Column('ods_code', sa.String(length=8), nullable=True),
    sa.Column('ods_name', sa.String(length=120), nullable=True),
    sa.Column('official_total', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['objective_id'], ['policy_objectives.id'], name=op.f('fk_policy_products_objective_id_policy_objectives'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['responsible_entity_id'], ['entities.id'], name=op.f('fk_policy_products_responsible_entity_id_entities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_products')),
    sa.UniqueConstraint('objective_id', 'code', name=op.f('uq_policy_products_objective_id'))
    )
    op.create_index(op.f('ix_policy_products_code'), 'policy_products', ['code'], unique=False)
    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes')),
    sa.UniqueConstraint('user_id', 'code_hash', name=op.f('uq_recovery_codes_user_id'))
    )
    op.create_index(op.f('ix_recovery_codes_user_id'), 'recovery_codes', ['user_id'], unique=False)
    op.create_table('user_roles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_roles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role', name=op.f('pk_user_roles'))
    )
    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash'))
    )
    op.create_index(op.f('ix_user_sessions_user_id'), 'user_sessions', ['user_id'], unique=False)
    op.create_table('achieved_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('value', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('entered_at', sa.DateTime(), nullable=False),
    sa.Column('origin', sa.String(length=12), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_achieved_values_entered_by_id_users')),
    sa.ForeignKeyConstraint(['product_id'], ['policy_products.id'], name=op.f('fk_achieved_values_product_id_policy_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_achieved_values')),
    sa.UniqueConstraint('product_id', 'period', name=op.f('uq_achieved_values_product_id'))
    )
    op.create_table('assistance_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('kind_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=True),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('provider_entity_id', sa.Integer(), nullable=True),
    sa.Column('professional_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('notes_enc', sa.LargeBinary(), nullable=True),
    sa.Column('not_provided_reason_enc', sa.LargeBinary(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_assistance_steps_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_assistance_steps_created_by_id_users')),
    sa.ForeignKeyConstraint(['kind_id'], ['step_kinds.id'], name=op.f('fk_assistance_steps_kind_id_step_kinds')),
    sa.ForeignKeyConstraint(['professional_id'], ['users.id'], name=op.f('fk_assistance_steps_professional_id_users')),
    sa.ForeignKeyConstraint(['provider_entity_id'], ['entities.id'], name=op.f('fk_assistance_steps_provider_entity_id_entities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assistance_steps')),
    sa.UniqueConstraint('uid', name=op.f('uq_assistance_steps_uid'))
    )
    op.create_index('ix_steps_case_phase', 'assistance_steps', ['case_id', 'phase'], unique=False)
    op.create_index('ix_steps_case_status_done', 'assistance_steps', ['case_id', 'status', 'done_on'], unique=False)
    op.create_index('ix_steps_status_done', 'assistance_steps', ['status', 'done_on', 'case_id'], unique=False)
    op.create_index('ix_steps_status_planned', 'assistance_steps', ['status', 'planned_on'], unique=False)
    op.create_table('case_closures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('status_before', sa.String(length=32), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('note_enc', sa.LargeBinary(), nullable=True),
    sa.Column('reopened_on', sa.Date(), nullable=True),
    sa.Column('reopened_by_id', sa.Integer(), nullable=True),
    sa.Column('reopen_reason_enc', sa.LargeBinary(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_closures_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_case_closures_closed_by_id_users')),
    sa.ForeignKeyConstraint(['reopened_by_id'], ['users.id'], name=op.f('fk_case_closures_reopened_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_closures')),
    sa.UniqueConstraint('uid', name=op.f('uq_case_closures_uid'))
    )
    op.create_index(op.f('ix_case_closures_case_id'), 'case_closures', ['case_id'], unique=False)
    op.create_table('case_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=16), nullable=False),
    sa.Column('written_on', sa.Date(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body_enc', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_case_notes_author_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_notes_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notes')),
    sa.UniqueConstraint('uid', name=op.f('uq_case_notes_uid'))
    )
    op.create_index('ix_case_notes_case_section', 'case_notes', ['case_id', 'section'], unique=False)
    op.create_table('case_purposes',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('purpose_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_purposes_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['purpose_id'], ['exploitation_purposes.id'], name=op.f('fk_case_purposes_purpose_id_exploitation_purposes')),
    sa.PrimaryKeyConstraint('case_id', 'purpose_id', name=op.f('pk_case_purposes'))
    )
    op.create_table('case_routes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('complaint_on', sa.Date(), nullable=True),
    sa.Column('acta_on', sa.Date(), nullable=True),
    sa.Column('acta_summary_enc', sa.LargeBinary(), nullable=True),
    sa.Column('immediate_closed_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_routes_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['immediate_closed_by_id'], ['users.id'], name=op.f('fk_case_routes_immediate_closed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_routes')),
    sa.UniqueConstraint('case_id', name=op.f('uq_case_routes_case_id')),
    sa.UniqueConstraint('uid', name=op.f('uq_case_routes_uid'))
    )
    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('taken_by_id', sa.Integer(), nullable=True),
    sa.Column('representative_enc', sa.LargeBinary(), nullable=True),
    sa.Column('withdrawn_on', sa.Date(), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_consents_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entity_id'], ['entities.id'], name=op.f('fk_consents_entity_id_entities')),
    sa.ForeignKeyConstraint(['taken_by_id'], ['users.id'], name=op.f('fk_consents_taken_by_id_users')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], name=op.f('fk_consents_withdrawn_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents')),
    sa.UniqueConstraint('uid', name=op.f('uq_consents_uid'))
    )
    op.create_index(op.f('ix_consents_case_id'), 'consents', ['case_id'], unique=False)
    op.create_index('ix_consents_case_kind_given', 'consents', ['case_id', 'kind', 'given_on'], unique=False)
    op.create_table('erasure_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_erasure_requests_case_id_cases')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_erasure_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_erasure_requests_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure_requests')),
    sa.UniqueConstraint('case_id', 'requested_at', name=op.f('uq_erasure_requests_case_id'))
    )
    op.create_index(op.f('ix_erasure_requests_case_id'), 'erasure_requests', ['case_id'], unique=False)
    op.create_table('identification_screenings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('acts', sa.String(length=200), nullable=False),
    sa.Column('means', sa.String(length=300), nullable=False),
    sa.Column('purpose_present', sa.Boolean(), nullable=False),
    sa.Column('screened_on', sa.Date(), nullable=False),
    sa.Column('screened_by_id', sa.Integer(), nullable=True),
    sa.Column('notes_enc', sa.LargeBinary(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_identification_screenings_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['screened_by_id'], ['users.id'], name=op.f('fk_identification_screenings_screened_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identification_screenings')),
    sa.UniqueConstraint('case_id', name=op.f('uq_identification_screenings_case_id')),
    sa.UniqueConstraint('uid', name=op.f('uq_identification_screenings_uid'))
    )
    op.create_table('indirect_victims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('relationship_kind', sa.String(length=24), nullable=False),
    sa.Column('age_group', sa.String(length=8), nullable=False),
    sa.Column('names_enc', sa.LargeBinary(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_indirect_victims_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indirect_victims')),
    sa.UniqueConstraint('uid', name=op.f('uq_indirect_victims_uid'))
    )
    op.create_index(op.f('ix_indirect_victims_case_id'), 'indirect_victims', ['case_id'], unique=False)
    op.create_table('legal_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('outcome_enc', sa.LargeBinary(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_legal_events_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_legal_events_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_events')),
    sa.UniqueConstraint('uid', name=op.f('uq_legal_events_uid'))
    )
    op.create_index('ix_legal_events_case_on', 'legal_events', ['case_id', 'on'], unique=False)
    op.create_table('legal_proceedings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('complaint_filed_on', sa.Date(), nullable=True),
    sa.Column('receiving_office', sa.String(length=200), nullable=False),
    sa.Column('criminal_case_number_enc', sa.LargeBinary(), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('representation', sa.String(length=24), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_legal_proceedings_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_legal_proceedings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_proceedings')),
    sa.UniqueConstraint('case_id', name=op.f('uq_legal_proceedings_case_id')),
    sa.UniqueConstraint('uid', name=op.f('uq_legal_proceedings_uid'))
    )
    op.create_table('life_plan_goals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('area', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('agreed_on', sa.Date(), nullable=False),
    sa.Column('target_on', sa.Date(), nullable=True),
    sa.Column('reviewed_on', sa.Date(), nullable=True),
    sa.Column('description_enc', sa.LargeBinary(), nullable=True),
    sa.Column('review_note_enc', sa.LargeBinary(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_life_plan_goals_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_life_plan_goals_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_life_plan_goals')),
    sa.UniqueConstraint('uid', name=op.f('uq_life_plan_goals_uid'))
    )
    op.create_index(op.f('ix_life_plan_goals_case_id'), 'life_plan_goals', ['case_id'], unique=False)
    op.create_table('phase_extensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('extra_days', sa.Integer(), nullable=False),
    sa.Column('extra_months', sa.Integer(), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('reported_to_secretariat', sa.Boolean(), nullable=False),
    sa.Column('reason_enc', sa.LargeBinary(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_phase_extensions_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_phase_extensions_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phase_extensions')),
    sa.UniqueConstraint('case_id', 'phase', name=op.f('uq_phase_extensions_case_id')),
    sa.UniqueConstraint('uid', name=op.f('uq_phase_extensions_uid'))
    )
    op.create_index(op.f('ix_phase_extensions_case_id'), 'phase_extensions', ['case_id'], unique=False)
    op.create_table('product_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('target', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['policy_products.id'], name=op.f('fk_product_targets_product_id_policy_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_targets')),
    sa.UniqueConstraint('product_id', 'period', name=op.f('uq_product_targets_product_id'))
    )
    op.create_table('protection_measures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('notes_enc', sa.LargeBinary(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_protection_measures_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_protection_measures_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_protection_measures')),
    sa.UniqueConstraint('uid', name=op.f('uq_protection_measures_uid'))
    )
    op.create_index(op.f('ix_protection_measures_case_id'), 'protection_measures', ['case_id'], unique=False)
    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('from_entity_id', sa.Integer(), nullable=False),
    sa.Column('to_entity_id', sa.Integer(), nullable=False),
    sa.Column('service', sa.String(length=40), nullable=False),
    sa.Column('shared_sections', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('mandatory', sa.Boolean(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('responded_by_id', sa.Integer(), nullable=True),
    sa.Column('responded_on', sa.Date(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('consent_override_by_id', sa.Integer(), nullable=True),
    sa.Column('reason_enc', sa.LargeBinary(), nullable=True),
    sa.Column('answer_enc', sa.LargeBinary(), nullable=True),
    sa.Column('override_reason_enc', sa.LargeBinary(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_referrals_case_id_cases')),
    sa.ForeignKeyConstraint(['consent_override_by_id'], ['users.id'], name=op.f('fk_referrals_consent_override_by_id_users')),
    sa.ForeignKeyConstraint(['from_entity_id'], ['entities.id'], name=op.f('fk_referrals_from_entity_id_entities')),
    sa.ForeignKeyConstraint(['responded_by_id'], ['users.id'], name=op.f('fk_referrals_responded_by_id_users')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_referrals_sent_by_id_users')),
    sa.ForeignKeyConstraint(['to_entity_id'], ['entities.id'], name=op.f('fk_referrals_to_entity_id_entities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('uid', name=op.f('uq_referrals_uid'))
    )
    op.create_index('ix_referrals_case_to', 'referrals', ['case_id', 'to_entity_id'], unique=False)
    op.create_index(op.f('ix_referrals_from_entity_id'), 'referrals', ['from_entity_id'], unique=False)
    op.create_index('ix_referrals_to_status', 'referrals', ['to_entity_id', 'status'], unique=False)
    op.create_table('sharing_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('reason_enc', sa.LargeBinary(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_sharing_overrides_case_id_cases')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_sharing_overrides_decided_by_id_users')),
    sa.ForeignKeyConstraint(['entity_id'], ['entities.id'], name=op.f('fk_sharing_overrides_entity_id_entities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_overrides')),
    sa.UniqueConstraint('uid', name=op.f('uq_sharing_overrides_uid'))
    )
    op.create_index('ix_sharing_overrides_case_entity', 'sharing_overrides', ['case_id', 'entity_id'], unique=False)
    op.create_table('shelter_stays',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('shelter_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('admitted_on', sa.Date(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.Column('placed_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_shelter_stays_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['placed_by_id'], ['users.id'], name=op.f('fk_shelter_stays_placed_by_id_users')),
    sa.ForeignKeyConstraint(['shelter_id'], ['shelters.id'], name=op.f('fk_shelter_stays_shelter_id_shelters')),
    sa.ForeignKeyConstraint(['step_id'], ['assistance_steps.id'], name=op.f('fk_shelter_stays_step_id_assistance_steps')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shelter_stays')),
    sa.UniqueConstraint('step_id', name=op.f('uq_shelter_stays_step_id')),
    sa.UniqueConstraint('uid', name=op.f('uq_shelter_stays_uid'))
    )
    op.create_index(op.f('ix_shelter_stays_case_id'), 'shelter_stays', ['case_id'], unique=False)
    op.create_index('ix_stays_shelter_open', 'shelter_stays', ['shelter_id', 'left_on'], unique=False)


def downgrade():
    op.drop_index('ix_stays_shelter_open', table_name='shelter_stays')
    op.drop_index(op.f('ix_shelter_stays_case_id'), table_name='shelter_stays')
    op.drop_table('shelter_stays')
    op.drop_index('ix_sharing_overrides_case_entity', table_name='sharing_overrides')
    op.drop_table('sharing_overrides')
    op.drop_index('ix_referrals_to_status', table_name='referrals')
    op.drop_index(op.f('ix_referrals_from_entity_id'), table_name='referrals')
    op.drop_index('ix_referrals_case_to', table_name='referrals')
    op.drop_table('referrals')
    op.drop_index(op.f('ix_protection_measures_case_id'), table_name='protection_measures')
    op.drop_table('protection_measures')
    op.drop_table('product_targets')
    op.drop_index(op.f('ix_phase_extensions_case_id'), table_name='phase_extensions')
    op.drop_table('phase_extensions')
    op.drop_index(op.f('ix_life_plan_goals_case_id'), table_name='life_plan_goals')
    op.drop_table('life_plan_goals')
    op.drop_table('legal_proceedings')
    op.drop_index('ix_legal_events_case_on', table_name='legal_events')
    op.drop_table('legal_events')
    op.drop_index(op.f('ix_indirect_victims_case_id'), table_name='indirect_victims')
    op.drop_table('indirect_victims')
    op.drop_table('identification_screenings')
    op.drop_index(op.f('ix_erasure_requests_case_id'), table_name='erasure_requests')
    op.drop_table('erasure_requests')
    op.drop_index('ix_consents_case_kind_given', table_name='consents')
    op.drop_index(op.f('ix_consents_case_id'), table_name='consents')
    op.drop_table('consents')
    op.drop_table('case_routes')
    op.drop_table('case_purposes')
    op.drop_index('ix_case_notes_case_section', table_name='case_notes')
    op.drop_table('case_notes')
    op.drop_index(op.f('ix_case_closures_case_id'), table_name='case_closures')
    op.drop_table('case_closures')
    op.drop_index('ix_steps_status_planned', table_name='assistance_steps')
    op.drop_index('ix_steps_status_done', table_name='assistance_steps')
    op.drop_index('ix_steps_case_status_done', table_name='assistance_steps')
    op.drop_index('ix_steps_case_phase', table_name='assistance_steps')
    op.drop_table('assistance_steps')
    op.drop_table('achieved_values')
    op.drop_index(op.f('ix_user_sessions_user_id'), table_name='user_sessions')
    op.drop_table('user_sessions')
    op.drop_table('user_roles')
    op.drop_index(op.f('ix_recovery_codes_user_id'), table_name='recovery_codes')
    op.drop_table('recovery_codes')
    op.drop_index(op.f('ix_policy_products_code'), table_name='policy_products')
    op.drop_table('policy_products')
    op.drop_table('due_rules')
    op.drop_index(op.f('ix_cases_victim_id'), table_name='cases')
    op.drop_index('ix_cases_owner_status', table_name='cases')
    op.drop_index('ix_cases_linked_on', table_name='cases')
    op.drop_index('ix_cases_identified_on', table_name='cases')
    op.drop_index(op.f('ix_cases_assigned_to_id'), table_name='cases')
    op.drop_table('cases')
    op.drop_index(op.f('ix_api_tokens_user_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
    op.drop_index('ix_victims_stats', table_name='victims')
    op.drop_index(op.f('ix_victims_phone_bidx'), table_name='victims')
    op.drop_index(op.f('ix_victims_name_bidx'), table_name='victims')
    op.drop_index(op.f('ix_victims_document_bidx'), table_name='victims')
    op.drop_table('victims')
    op.drop_index(op.f('ix_users_entity_id'), table_name='users')
    op.drop_table('users')
    op.drop_table('shelters')
    op.drop_table('policy_objectives')
    op.drop_table('case_counters')
    op.drop_table('step_kinds')
    op.drop_table('settings')
    op.drop_table('policies')
    op.drop_index(op.f('ix_exploitation_purposes_code'), table_name='exploitation_purposes')
    op.drop_table('exploitation_purposes')
    op.drop_table('entities')
    op.drop_index('uq_data_keys_system', table_name='data_keys', sqlite_where=sa.text("purpose = 'system'"), postgresql_where=sa.text("purpose = 'system'"))
    op.drop_index(op.f('ix_data_keys_kek_id'), table_name='data_keys')
    op.drop_table('data_keys')
    op.drop_index('ix_audit_events_outcome_seq', table_name='audit_events')
    op.drop_index('ix_audit_events_object_ref_seq', table_name='audit_events')
    op.drop_index('ix_audit_events_at', table_name='audit_events')
    op.drop_index('ix_audit_events_actor_seq', table_name='audit_events')
    op.drop_index('ix_audit_events_actor_entity_seq', table_name='audit_events')
    op.drop_index('ix_audit_events_action_seq', table_name='audit_events')
    op.drop_index('ix_audit_events_action_ip_at', table_name='audit_events')
    op.drop_table('audit_events')
