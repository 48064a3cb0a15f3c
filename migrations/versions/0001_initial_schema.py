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
    op.create_index('ix_audit_events_actor_seq', 'audit_events', ['actor', 'seq'], unique=False)
    op.create_index('ix_audit_events_at', 'audit_events', ['at'], unique=False)
    op.create_index('ix_audit_events_object_ref_seq', 'audit_events', ['object_ref', 'seq'], unique=False)
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
    op.create_table('settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=2000), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('case_counters',
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entities.id'], name=op.f('fk_case_counters_entity_id_entities')),
    sa.PrimaryKeyConstraint('entity_id', 'year', name=op.f('pk_case_counters'))
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
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['users.id'], name=op.f('fk_cases_assigned_to_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_cases_created_by_id_users')),
    sa.ForeignKeyConstraint(['owner_entity_id'], ['entities.id'], name=op.f('fk_cases_owner_entity_id_entities')),
    sa.ForeignKeyConstraint(['victim_id'], ['victims.id'], name=op.f('fk_cases_victim_id_victims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('code', name=op.f('uq_cases_code')),
    sa.UniqueConstraint('uid', name=op.f('uq_cases_uid'))
    )
    op.create_index(op.f('ix_cases_assigned_to_id'), 'cases', ['assigned_to_id'], unique=False)
    op.create_index('ix_cases_identified_on', 'cases', ['identified_on'], unique=False)
    op.create_index('ix_cases_linked_on', 'cases', ['linked_on'], unique=False)
    op.create_index('ix_cases_owner_status', 'cases', ['owner_entity_id', 'status'], unique=False)
    op.create_index(op.f('ix_cases_victim_id'), 'cases', ['victim_id'], unique=False)
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
    op.create_table('case_purposes',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('purpose_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_purposes_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['purpose_id'], ['exploitation_purposes.id'], name=op.f('fk_case_purposes_purpose_id_exploitation_purposes')),
    sa.PrimaryKeyConstraint('case_id', 'purpose_id', name=op.f('pk_case_purposes'))
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


def downgrade():
    op.drop_index('ix_referrals_to_status', table_name='referrals')
    op.drop_index(op.f('ix_referrals_from_entity_id'), table_name='referrals')
    op.drop_index('ix_referrals_case_to', table_name='referrals')
    op.drop_table('referrals')
    op.drop_index(op.f('ix_indirect_victims_case_id'), table_name='indirect_victims')
    op.drop_table('indirect_victims')
    op.drop_table('identification_screenings')
    op.drop_index(op.f('ix_erasure_requests_case_id'), table_name='erasure_requests')
    op.drop_table('erasure_requests')
    op.drop_index(op.f('ix_consents_case_id'), table_name='consents')
    op.drop_table('consents')
    op.drop_table('case_purposes')
    op.drop_index(op.f('ix_user_sessions_user_id'), table_name='user_sessions')
    op.drop_table('user_sessions')
    op.drop_table('user_roles')
    op.drop_index(op.f('ix_recovery_codes_user_id'), table_name='recovery_codes')
    op.drop_table('recovery_codes')
    op.drop_index(op.f('ix_cases_victim_id'), table_name='cases')
    op.drop_index('ix_cases_owner_status', table_name='cases')
    op.drop_index('ix_cases_linked_on', table_name='cases')
    op.drop_index('ix_cases_identified_on', table_name='cases')
    op.drop_index(op.f('ix_cases_assigned_to_id'), table_name='cases')
    op.drop_table('cases')
    op.drop_index(op.f('ix_api_tokens_user_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
    op.drop_index(op.f('ix_victims_phone_bidx'), table_name='victims')
    op.drop_index(op.f('ix_victims_name_bidx'), table_name='victims')
    op.drop_index(op.f('ix_victims_document_bidx'), table_name='victims')
    op.drop_table('victims')
    op.drop_index(op.f('ix_users_entity_id'), table_name='users')
    op.drop_table('users')
    op.drop_table('case_counters')
    op.drop_table('settings')
    op.drop_index(op.f('ix_exploitation_purposes_code'), table_name='exploitation_purposes')
    op.drop_table('exploitation_purposes')
    op.drop_table('entities')
    op.drop_index(op.f('ix_data_keys_kek_id'), table_name='data_keys')
    op.drop_table('data_keys')
    op.drop_index('ix_audit_events_object_ref_seq', table_name='audit_events')
    op.drop_index('ix_audit_events_at', table_name='audit_events')
    op.drop_index('ix_audit_events_actor_seq', table_name='audit_events')
    op.drop_index('ix_audit_events_action_ip_at', table_name='audit_events')
    op.drop_table('audit_events')
